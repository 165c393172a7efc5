"""Bundles reach a kiosk by themselves, in QEMU on the SD image (issue 14):

1. A technician publishes a bundle once on the central server (this machine; the guest reaches
   it at 10.0.2.2). The kiosk was flashed with its settings on the boot partition, as a
   technician gives them: `kiosk.toml` (the server, an update window that covers now, a
   bandwidth limit) and `central.token`. The nightly pull (kiosk-pull.service, started
   here by hand instead of waiting for its timer) downloads it; the power is cut
   mid-download (QEMU's system_reset), and the next pull resumes from what was kept instead
   of starting over. The kiosk installs it, reboots into it by itself while idle, and keeps
   it.
2. A USB stick holding an older bundle, plugged in while the kiosk runs: the media helper (what
   the admin screen asks) lists it, and RAUC's pre-install handler refuses it as older than the
   running system; the kiosk user cannot install with rauc behind the helper's back (the D-Bus
   policy).
3. E-book batches (issue 17): the library's public key is on the boot partition, as a
   technician gives it; a batch published once on the central server is pulled and applied by
   the same nightly service as the kiosk user, and a FAT stick holding the next month's batch
   is listed by the media helper (this machine's own kernel has no vfat; the guest's has).

Slow and root only: marker `image` (`./setup.sh image --check`). Timings go to
artifacts/i14/delivery-timings.txt, what the kiosk said to artifacts/i14/delivery-*.txt.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from central.config import CentralConfig
from central.storage import Storage
from tests.central_server import add_kiosk, serve
from tests.conftest import ROOT
from tests.content_batches import Batches, tar_of
from tests.image import conftest as image_conftest
from tests.image import test_update as update
from tests.image import vm
from tests.image.record import phase_timer, save

pytestmark = [pytest.mark.image, pytest.mark.timeout(3 * 3600)]

V2 = "0.2.0+pulled"
OLDER = "0.0.9-stick"
LIBRARY = "醴陵市图书馆"
KIOSK_ID = "qemu-lobby-1"
RATE_KBPS = 40_000  # about 5 MB/s: the 408 MB bundle takes over a minute, time to cut it
CUT_AT = 60 * 1024**2  # bytes on the kiosk when the server goes away

timed = phase_timer("delivery: ", "delivery-timings.txt")


class Central:
    """The real central server on this machine (the guest reaches it at 10.0.2.2), and its
    command line as a technician runs it there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)  # a new server at each run
        folder.mkdir(parents=True)
        self.storage = Storage.open(CentralConfig(data_dir=str(folder)).db_url)
        self._serving = serve(self.storage, self.folder)
        self.port = int(self._serving.__enter__().url.rsplit(":", 1)[1])

    def close(self) -> None:
        self._serving.__exit__(None, None, None)
        self.storage.close()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        config = self.folder / "central.toml"
        config.write_text(f'[central]\ndata_dir = "{self.folder}"\n')
        return subprocess.run([str(ROOT / ".venv/bin/kiosk-central"), *args, "--config",
                               str(config)], capture_output=True, text=True, timeout=600,
                              check=False)


@pytest.fixture(scope="module")
def central():
    server = Central(image_conftest.image_out() / "check" / "delivery-central")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def bundles():
    out = image_conftest.image_out()
    key = update.trusted_key(out)
    work = out / "check" / "delivery-bundles"
    subprocess.run(["rm", "-rf", str(work)], check=True)
    made = {}
    for version in (V2, OLDER):
        with timed(f"bundle {version}: build"):
            made[version] = update.make_bundle(out, work / version, version, key, broken=False)
    return made


@pytest.fixture(scope="module")
def batches():
    """2026-11 (40 titles) and 2026-12 (5 added, 1 updated, 2 withdrawn) as tars, signed with
    the library's key."""
    work = image_conftest.image_out() / "check" / "delivery-batches"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with timed("e-book batches: build and sign"):
        made = Batches(work, count=40)
        made.tars = {"2026-11": tar_of(made.first, work / "2026-11.tar"),
                     "2026-12": tar_of(made.second, work / "2026-12.tar")}
    return made


@pytest.fixture(scope="module")
def kiosk(central, batches):
    token = add_kiosk(central.storage, KIOSK_ID, LIBRARY)
    folder = image_conftest.workdir("delivery")
    machine = vm.Vm(image_conftest.find_image(image_conftest.image_out()), folder, usb=True)
    machine.prepare()
    with open(machine.disk, "r+b") as disk:
        disk.truncate(machine.disk.stat().st_size + update.GROW_CARD_BY)
    machine.put_boot_file("kiosk.toml", (
        f'[kiosk]\nid = "{KIOSK_ID}"\n\n'
        f'[central]\nurl = "http://10.0.2.2:{central.port}"\n\n'
        f'[updates]\nwindow = "00:00-24:00"\nmax_rate_kbps = {RATE_KBPS}\n').encode())
    machine.put_boot_file("central.token", (token + "\n").encode())
    machine.put_boot_file("content-signing.pub", batches.public.read_bytes())
    machine.start()
    try:
        with timed("first boot (slot A): QEMU start to slot marked good"):
            machine.wait_ssh(update.BOOT_TIMEOUT)
            update.wait_good(machine, "A")
        yield machine
    finally:
        if machine.process and machine.process.poll() is None:
            machine.process.terminate()
            machine.process.wait(timeout=60)
        machine.stop()


def downloaded_bytes(machine: vm.Vm) -> int:
    shown = machine.ssh("find /var/lib/kiosk -name '*.raucb*' -printf '%s\\n' | sort -n | tail -1")
    return int(shown.stdout.strip() or 0)


def journal(machine: vm.Vm) -> str:
    """What kiosk-pull said in this boot."""
    return machine.ssh("journalctl -b --no-pager -u kiosk-pull").stdout


def test_a_published_bundle_is_pulled_resumed_installed_and_kept(kiosk, central, bundles):
    with timed(f"{V2}: kiosk-central release publish"):
        published = central.cli("release", "publish", str(bundles[V2]), "--kind", "system",
                                 "--library", LIBRARY)
    save("delivery-publish.txt", published.stdout + published.stderr)
    assert published.returncode == 0, published.stdout + published.stderr

    with timed(f"{V2}: pull until {CUT_AT // 1024**2} MB are on the kiosk"):
        kiosk.ssh("systemctl start --no-block kiosk-pull.service")
        deadline = time.monotonic() + 900
        while downloaded_bytes(kiosk) < CUT_AT:
            assert time.monotonic() < deadline, journal(kiosk)
            time.sleep(2)
    save("delivery-pull-before-the-power-cut.txt", journal(kiosk))
    mark = len(kiosk.serial_text())
    with timed(f"{V2}: power cut (QEMU system_reset) mid-download, to SSH again"):
        kiosk.monitor("system_reset")
        kiosk.wait_for_serial(r"kiosk-boot: booting slot A", 300, start=mark)
        kiosk.wait_ssh(update.BOOT_TIMEOUT)
    kept = downloaded_bytes(kiosk)
    assert kept > 0, "the power cut lost every downloaded byte"

    mark = len(kiosk.serial_text())
    with timed(f"{V2}: the next pull resumes ({kept // 1024**2} MB kept), installs, and "
               "reboots into B when idle"):
        kiosk.ssh("systemctl start --no-block kiosk-pull.service")
        deadline = time.monotonic() + 900
        while "resuming" not in journal(kiosk):
            assert time.monotonic() < deadline, journal(kiosk)
            time.sleep(5)
        save("delivery-pull-resumed.txt", journal(kiosk))
        kiosk.wait_for_serial(r"kiosk-boot: booting slot B", 1800, start=mark)
        kiosk.wait_ssh(update.BOOT_TIMEOUT)
    with timed(f"{V2}: slot B marked good"):
        update.wait_good(kiosk, "B")
    assert f"VERSION={V2}" in kiosk.ssh("cat /etc/kiosk-release").stdout
    shown = kiosk.ssh("kiosk update status")
    save("delivery-status-updated.txt", shown.stdout + shown.stderr)
    assert "this slot:   B" in shown.stdout, shown.stdout


def test_an_older_bundle_on_a_usb_stick_is_refused(kiosk, bundles):
    stick = image_conftest.image_out() / "check" / "delivery-stick.img"
    stick.unlink(missing_ok=True)
    subprocess.run(["truncate", "-s", "600M", str(stick)], check=True)
    subprocess.run(["mkfs.vfat", "-n", "KIOSKUSB", str(stick)], check=True, capture_output=True)
    subprocess.run(["mcopy", "-i", str(stick), str(bundles[OLDER]), "::"], check=True)
    name = bundles[OLDER].name
    before = slot_and_version(kiosk)
    with timed("USB stick: plug in, scan (the media helper, as the admin screen asks)"):
        kiosk.monitor(f"drive_add 0 if=none,id=stick,format=raw,file={stick}")
        kiosk.monitor("device_add usb-storage,bus=xhci.0,drive=stick,id=stickdev,removable=on")
        deadline = time.monotonic() + 120
        while True:
            listed = kiosk.ssh("runuser -u kiosk -- kiosk media scan", timeout=300)
            if name in listed.stdout or time.monotonic() > deadline:
                break
            time.sleep(5)
    save("delivery-usb-scan.txt", listed.stdout + listed.stderr)
    assert name in listed.stdout and "older" in listed.stdout, listed.stdout + listed.stderr
    assert not kiosk.ssh("findmnt -rn | grep kiosk-media").stdout, "left mounted after the scan"
    tried = kiosk.ssh(f"runuser -u kiosk -- kiosk media install {name}", timeout=900)
    save("delivery-usb-install-older.txt", tried.stdout + tried.stderr)
    assert tried.returncode == 1 and "older" in tried.stderr, tried.stdout + tried.stderr

    # Behind the helper's back: RAUC itself refuses it, to the kiosk user and to root.
    device = kiosk.ssh("lsblk -rno PATH,LABEL | awk '$2==\"KIOSKUSB\"{print $1}'").stdout.split()
    assert device, kiosk.ssh("lsblk").stdout
    stick_at = "/run/check-stick"  # the root file system is read-only: /mnt takes no folder
    mounted = kiosk.ssh(f"mkdir -p {stick_at} && mount -o ro {device[0]} {stick_at}")
    assert mounted.returncode == 0, mounted.stdout + mounted.stderr
    try:
        as_kiosk = kiosk.ssh(f"runuser -u kiosk -- rauc install {stick_at}/{name}", timeout=300)
        as_root = kiosk.ssh(f"kiosk update install {stick_at}/{name}", timeout=900)
        # Root past our command, straight to RAUC: its pre-install handler refuses it.
        rauc_as_root = kiosk.ssh(f"rauc install {stick_at}/{name}", timeout=900)
    finally:
        kiosk.ssh(f"umount {stick_at}")
    save("delivery-rauc-as-kiosk.txt", as_kiosk.stdout + as_kiosk.stderr)
    save("delivery-install-older-as-root.txt", as_root.stdout + as_root.stderr)
    said = as_kiosk.stdout + as_kiosk.stderr
    assert as_kiosk.returncode != 0 and "AccessDenied" in said, said
    assert as_root.returncode == 1 and f"{OLDER} is older than the running system" in \
        as_root.stdout + as_root.stderr, as_root.stdout + as_root.stderr
    save("delivery-rauc-as-root.txt", rauc_as_root.stdout + rauc_as_root.stderr)
    # RAUC names only the handler's exit code; the handler's reason is in RAUC's journal.
    assert rauc_as_root.returncode != 0 and "Pre-install handler error" in \
        rauc_as_root.stdout + rauc_as_root.stderr, rauc_as_root.stdout + rauc_as_root.stderr
    rauc_said = kiosk.ssh("journalctl -b --no-pager -u rauc").stdout
    save("delivery-rauc-journal.txt", rauc_said)
    assert f"{OLDER} is older than the running system" in rauc_said, rauc_said
    assert slot_and_version(kiosk) == before, "the refused bundle changed the running system"


def test_a_published_batch_is_pulled_and_applied_and_a_stick_batch_is_listed(kiosk, central,
                                                                             batches):
    with timed("batch 2026-11: kiosk-central batch publish"):
        published = central.cli("batch", "publish", str(batches.tars["2026-11"]),
                                "--library", LIBRARY)
    save("delivery-batch-publish.txt", published.stdout + published.stderr)
    assert published.returncode == 0, published.stdout + published.stderr
    with timed("batch 2026-11: the nightly pull downloads and applies it"):
        pulled = kiosk.ssh("systemctl start kiosk-pull.service", timeout=900)
    said = journal(kiosk)
    save("delivery-batch-pull.txt", said)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr + said
    listed = kiosk.ssh("runuser -u kiosk -- kiosk content list")
    save("delivery-batch-list.txt", listed.stdout + listed.stderr)
    assert listed.stdout.startswith("current  2026-11-1") and " 40 titles" in listed.stdout, \
        listed.stdout + listed.stderr + said
    assert not kiosk.ssh("find /var/lib/kiosk/delivery/catalogue -name '*.tar*'").stdout, \
        "the applied batch's file was kept"
    doctor = kiosk.ssh("kiosk doctor", timeout=300)
    save("delivery-batch-doctor.txt", doctor.stdout + doctor.stderr)
    assert "2026-11-1" in doctor.stdout, doctor.stdout

    stick = image_conftest.image_out() / "check" / "delivery-batch-stick.img"
    stick.unlink(missing_ok=True)
    subprocess.run(["truncate", "-s", "64M", str(stick)], check=True)
    subprocess.run(["mkfs.vfat", "-n", "BATCHES", str(stick)], check=True, capture_output=True)
    subprocess.run(["mcopy", "-i", str(stick), str(batches.tars["2026-12"]), "::"], check=True)
    with timed("USB stick with a batch: plug in, scan"):
        kiosk.monitor(f"drive_add 0 if=none,id=batches,format=raw,file={stick}")
        kiosk.monitor("device_add usb-storage,bus=xhci.0,drive=batches,id=batchesdev,"
                      "removable=on")
        deadline = time.monotonic() + 120
        while True:
            scanned = kiosk.ssh("runuser -u kiosk -- kiosk media scan", timeout=300)
            if "2026-12.tar" in scanned.stdout or time.monotonic() > deadline:
                break
            time.sleep(5)
    save("delivery-batch-usb-scan.txt", scanned.stdout + scanned.stderr)
    assert "2026-12.tar" in scanned.stdout, scanned.stdout + scanned.stderr
    assert not kiosk.ssh("findmnt -rn | grep kiosk-media").stdout, "left mounted after the scan"


def slot_and_version(machine: vm.Vm) -> list[str]:
    """The line of `kiosk update status` naming the running slot and its system's version."""
    shown = machine.ssh("kiosk update status").stdout
    return [line for line in shown.splitlines() if line.startswith("this slot:")]
