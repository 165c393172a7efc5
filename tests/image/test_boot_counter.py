"""boot.scr's answers to a spent or damaged boot counter, on copies of the image that go only
as far as the kernel: it never stops at U-Boot's prompt, says on the serial console what it
does (lines starting "kiosk-boot:"), and leaves the counter as I14-CONTRACT says. Marker
`image` (./setup.sh image --check); the serial logs go to artifacts/i14/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS
from tests.image.conftest import find_image, image_out, workdir
from tests.image.vm import Vm, fw_printenv
from tests.system.phases import phase

pytestmark = [pytest.mark.image, pytest.mark.timeout(900)]

OUT = ARTIFACTS / "i14"


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
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"image-{name}-serial.log").write_bytes(machine.serial_log.read_bytes())
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
