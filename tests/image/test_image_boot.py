"""The SD image booted in QEMU as a Pi boots it: U-Boot, boot.scr's A/B counter, the slot's own
kernel and initramfs, then the kiosk on a read-only root, ready, its doctor content, drawn on a
virtio-gpu screen through kiosk.service's own KMS/DRM. (boot.scr's answers to a spent or
damaged counter: test_boot_counter.py.)

Slow (minutes under TCG) and root only: `./setup.sh image --check`, marker `image`, not in the
normal run. The tests run in file order on one VM; the screen goes to
artifacts/i14/image-screen.png, the doctor's answer to artifacts/i14/image-doctor.txt.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.image.conftest import find_image, image_out, workdir
from tests.image.vm import Vm, VmError
from tests.system import phases
from tests.system.phases import phase

pytestmark = [pytest.mark.image, pytest.mark.timeout(1800)]

OUT = ARTIFACTS / "i14"
BOOT_TIMEOUT = 900  # TCG on 2 shared cores: about 2 minutes to the app, much more when busy
MIB = 1024 * 1024
DATA_IN_IMAGE = 64 * MIB
GROW_CARD_BY = 1024 * MIB  # the copy is a bigger "card": the data partition has room to grow


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
    results = {line.split()[1]: line.split()[0] for line in doctor.stdout.splitlines()
               if line[:4] in ("ok  ", "FAIL", "WARN", "--  ")}
    # QEMU's user network here reaches no time server, so the clock is never synchronised and
    # the doctor says so (FAIL clock): every other check must pass.
    failed = {name for name, state in results.items() if state == "FAIL"}
    assert doctor.returncode == 0 or failed == {"clock"}, doctor.stdout + doctor.stderr
    for name in ("config", "journal", "service", "root", "data", "boot-setup", "network",
                 "font", "translations"):
        assert results.get(name) == "ok", f"{name}: {doctor.stdout}"


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
    # Drawn by kiosk.service itself: SDL's KMS/DRM on virtio-gpu (Mesa's software renderer).
    environment = booted.ssh("systemctl show -p Environment kiosk.service").stdout
    assert "SDL_VIDEODRIVER=kmsdrm" in environment, environment
    opened = booted.ssh("ls -l /proc/$(systemctl show -p MainPID --value kiosk.service)/fd")
    assert "/dev/dri/card" in opened.stdout, opened.stdout + opened.stderr


def distinct_colours(png: Path) -> int:
    from PIL import Image

    with Image.open(png) as picture:
        return len(picture.convert("RGB").getcolors(maxcolors=1 << 20) or ())
