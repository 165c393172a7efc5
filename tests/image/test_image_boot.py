"""The SD image booted in QEMU as a Pi boots it: U-Boot, boot.scr's A/B counter, the slot's own
kernel and initramfs, then the kiosk on a read-only root, ready, its doctor content, drawn on a
virtio-gpu screen through kiosk.service's own KMS/DRM. Then boot.scr's answers to a spent or
damaged counter, on copies of the image that only go as far as the boot loader.

Slow (minutes under TCG) and root only: `./setup.sh image --check`, marker `image`, not in the
normal run. The tests of the booted kiosk run in file order on one VM; timings go to
artifacts/i14/image-check-timings.txt, the screen to artifacts/i14/image-screen.png.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.image.conftest import find_image, image_out
from tests.image.vm import Vm, VmError, fw_printenv
from tests.system import phases
from tests.system.phases import phase

pytestmark = [pytest.mark.image, pytest.mark.timeout(1800)]

OUT = ARTIFACTS / "i14"
BOOT_TIMEOUT = 900  # TCG on 2 shared cores: about 2 minutes to the app, much more when busy
MIB = 1024 * 1024
DATA_IN_IMAGE = 64 * MIB
GROW_CARD_BY = 1024 * MIB  # the copy is a bigger "card": the data partition has room to grow


def workdir(name: str) -> Path:
    """A VM's folder beside the build (its disk is a sparse copy of several GB), replaced at
    each run and kept after it for a look."""
    folder = image_out() / "check" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module", autouse=True)
def save_timings():
    yield
    if phases.TIMINGS:
        phases.save(OUT / "image-check-timings.txt")


@pytest.fixture(scope="module")
def booted():
    image = find_image(image_out())
    machine = Vm(image, workdir("boot"))
    with phase("copy the image (sparse) and put the test's SSH key on it"):
        machine.prepare()
        with open(machine.disk, "r+b") as disk:
            disk.truncate(machine.disk.stat().st_size + GROW_CARD_BY)
    start = time.monotonic()
    machine.start()
    try:
        with phase("boot: QEMU start to boot.scr choosing a slot"):
            machine.wait_for_serial(r"kiosk-boot: booting slot A", 300)
        with phase("boot: to the SSH login"):
            machine.wait_ssh(BOOT_TIMEOUT)
        with phase("boot: to kiosk.service ready (Type=notify)"):
            wait_active(machine, "kiosk.service", BOOT_TIMEOUT - (time.monotonic() - start))
        phases.TIMINGS["boot: QEMU start to kiosk ready, in all"] = time.monotonic() - start
        yield machine
    finally:
        machine.stop()


def wait_active(machine: Vm, unit: str, timeout: float) -> None:
    deadline = time.monotonic() + max(timeout, 60)
    while True:
        state = machine.ssh(f"systemctl is-active {unit}").stdout.strip()
        if state == "active":
            return
        if time.monotonic() > deadline:
            status = machine.ssh(f"systemctl status --no-pager {unit}; journalctl -b -n 60 "
                                 f"--no-pager -u {unit}").stdout
            raise VmError(f"{unit} is {state!r}, not active, after the boot:\n{status}")
        time.sleep(3)


def test_the_image_boots_through_u_boot_to_a_ready_kiosk_whose_doctor_passes(booted):
    serial = booted.serial_text()
    assert "U-Boot" in serial and "kiosk-boot: kiosk-boot.env: BOOT_ORDER=A B" in serial
    cmdline = booted.ssh("cat /proc/cmdline").stdout
    assert "root=PARTUUID=4b494f53-02" in cmdline and "rauc.slot=A" in cmdline, cmdline
    with phase("kiosk doctor"):
        doctor = booted.ssh("runuser -u kiosk -- kiosk doctor", timeout=300)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "image-doctor.txt").write_text(
        f"$ kiosk doctor (exit {doctor.returncode})\n{doctor.stdout}{doctor.stderr}")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


def test_the_root_is_read_only(booted):
    assert "ro" in booted.ssh("findmnt -no OPTIONS /").stdout.strip().split(",")
    wrote = booted.ssh("touch /etc/kiosk-written")
    assert wrote.returncode != 0 and "Read-only file system" in wrote.stderr
    release = booted.ssh("cat /etc/kiosk-release").stdout
    assert "COMPATIBLE=library-kiosk-rpi-arm64" in release and "VERSION=" in release


def test_the_data_partition_grew_to_the_card_and_is_mounted(booted):
    """DATA's layout mounts KIOSKDATA at /data; before DATA's branch is in, at /var/lib/kiosk."""
    target = booted.ssh("findmnt -no TARGET LABEL=KIOSKDATA").stdout.split()
    assert target and target[0] in ("/data", "/var/lib/kiosk"), target
    size = int(booted.ssh(f"df -B1 --output=size {target[0]} | tail -1").stdout)
    assert size > DATA_IN_IMAGE + GROW_CARD_BY // 2, size


def test_ssh_host_keys_are_this_kiosks_own(booted):
    """The image ships no host keys (every kiosk would share them): the kiosk made its own."""
    tree = image_out() / "rootfs" / "etc" / "ssh"
    assert not list(tree.glob("ssh_host_*")), "the image's tree has host keys"
    keys = [line.split()[1] for line in booted.ssh("sshd -T").stdout.splitlines()
            if line.startswith("hostkey ")]
    present = booted.ssh("ls " + " ".join(keys)).returncode == 0 if keys else False
    assert keys and present, keys


def test_linux_reads_the_boot_counter_u_boot_wrote(booted):
    done = booted.ssh("fw_printenv BOOT_ORDER BOOT_A_LEFT BOOT_B_LEFT")
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.splitlines())
    # 3 in the image, one spent by this boot; RAUC's mark-good (helper UPDATE) gives it back.
    assert values["BOOT_ORDER"] == "A B" and values["BOOT_A_LEFT"] in ("2", "3"), values
    assert values["BOOT_B_LEFT"] == "0", values


def test_the_boot_partitions_kiosk_toml_as_shipped_changes_nothing(booted):
    script = ("import dataclasses; from kiosk import config; "
              "print(dataclasses.replace(config.load(), sources=()) == "
              "dataclasses.replace(config.load_files([config.DEFAULT_PATH]), sources=()), "
              "config.load().sources)")
    shipped = booted.ssh("test -f /boot/firmware/kiosk.toml && "
                         f"/opt/kiosk/.venv/bin/python -c '{script}'")
    assert shipped.stdout.startswith("True") and "/boot/firmware/kiosk.toml" in shipped.stdout, (
        shipped.stdout + shipped.stderr)
    report = booted.ssh("cat /run/kiosk-boot/report.json").stdout
    assert "kiosk.toml" not in report or '"problems": []' in report, report


def test_the_kiosk_draws_its_screen_through_kms(booted):
    png = OUT / "image-screen.png"
    # The first frame is drawn before READY; give the software renderer a moment more.
    deadline = time.monotonic() + 120
    while True:
        booted.screendump(png)
        if distinct_colours(png) > 16 or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert distinct_colours(png) > 16, f"the screen is blank: {png}"
    log = booted.ssh("journalctl -b -u kiosk.service --no-pager").stdout
    assert "kmsdrm" in log.lower() or "KMSDRM" in log, log[-2000:]


def distinct_colours(png: Path) -> int:
    from PIL import Image

    with Image.open(png) as picture:
        return len(picture.convert("RGB").getcolors(maxcolors=1 << 20) or ())


# --- boot.scr's answers to a spent or damaged counter -------------------------------------

def counter_blob(tmp_path: Path, text: str) -> bytes:
    source, blob = tmp_path / "env.txt", tmp_path / "env.bin"
    source.write_text(text)
    subprocess.run(["mkenvimage", "-s", "0x4000", "-o", str(blob), str(source)], check=True)
    return blob.read_bytes()


def boot_loader_only(tmp_path: Path, name: str, env: bytes, *lines: str) -> dict[str, str]:
    """Boots a copy with this kiosk-boot.env up to the last of `lines` on the serial console
    (in order), then stops it and reads the counter boot.scr left on the copy."""
    machine = Vm(find_image(image_out()), workdir(name), screen=False)
    machine.prepare()
    machine.put_boot_file("kiosk-boot.env", env)
    machine.start()
    try:
        at = 0
        for line in lines:
            at = machine.wait_for_serial(line, 300, start=at).end()
    finally:
        machine.stop()
    shutil.copy(machine.serial_log, OUT / f"image-{name}-serial.log")
    values = fw_printenv(machine.get_boot_file("kiosk-boot.env"), tmp_path)
    machine.remove_disk()
    return values


def test_a_spent_counter_and_an_empty_slot_b_fall_back_to_a_without_stopping(tmp_path):
    """A has no attempts left, B one but nothing in its slot: boot.scr tries B, restarts when
    B has no kernel, finds no attempts anywhere, gives both 3 and restarts into A."""
    OUT.mkdir(parents=True, exist_ok=True)
    with phase("boot loader: spent A, empty B, back to A"):
        values = boot_loader_only(
            tmp_path, "counter-spent", counter_blob(tmp_path, "BOOT_ORDER=A B\nBOOT_A_LEFT=0\n"
                                                              "BOOT_B_LEFT=1\n"),
            r"kiosk-boot: booting slot B", r"kiosk-boot: slot B did not boot",
            r"kiosk-boot: no slot has boot attempts left", r"kiosk-boot: booting slot A",
            r"Booting Linux|Starting kernel")
    assert values == {"BOOT_ORDER": "A B", "BOOT_A_LEFT": "2", "BOOT_B_LEFT": "3"}, values


def test_a_damaged_counter_starts_again_from_the_defaults(tmp_path):
    OUT.mkdir(parents=True, exist_ok=True)
    damaged = bytearray(counter_blob(tmp_path, "BOOT_ORDER=B A\nBOOT_A_LEFT=0\nBOOT_B_LEFT=3\n"))
    damaged[10] ^= 0xFF  # the CRC no longer matches
    with phase("boot loader: damaged counter, defaults"):
        values = boot_loader_only(
            tmp_path, "counter-damaged", bytes(damaged),
            r"kiosk-boot: kiosk-boot.env is missing or damaged", r"kiosk-boot: booting slot A",
            r"Booting Linux|Starting kernel")
    assert values == {"BOOT_ORDER": "A B", "BOOT_A_LEFT": "2", "BOOT_B_LEFT": "0"}, values
