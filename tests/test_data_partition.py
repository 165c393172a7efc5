"""The data partition grown on the first boot, for real: a disk image larger than the partition
table it carries (an image written to a bigger card), on a loop device, its KIOSKDATA partition
mounted with a file on it, grown by sfdisk, partx and resize2fs while mounted.

Root and loop devices needed; skipped with the reason elsewhere, an error under CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from kiosk import commands
from kiosk.bootsetup import data_partition
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from tests import small_partition

IMAGE_MB, CARD_MB = 64, 160
TABLES = {  # the boot partition (FAT type, left unformatted), KIOSKDATA, and maybe one after
    "dos": "label: dos\n,8M,c\n,16M,83\n",
    "gpt": "label: gpt\n,8M,U\n,16M,L\n",
}


def why_not() -> str | None:
    reason = small_partition.why_not()
    missing = [t for t in ("sfdisk", "partx", "resize2fs", "losetup", "blkid")
               if not shutil.which(t)]
    if not reason and missing:
        reason = f"needs {', '.join(missing)}"
        if os.environ.get("CI"):
            raise RuntimeError(f"the data partition tests cannot run in CI: {reason}")
    return reason


pytestmark = pytest.mark.skipif(why_not() is not None, reason=str(why_not()))
CAP_SYS_RESOURCE = 24


def can_resize_online() -> bool:
    """ext4 grows a mounted file system only for a caller with CAP_SYS_RESOURCE, which some
    containers (this one) do not give even to root; a Pi's root has it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
    return False


def sh(*argv: str, input: str | None = None) -> str:
    return subprocess.run(argv, input=input, capture_output=True, text=True,
                          check=True).stdout


@contextmanager
def card(tmp_path: Path, table: str, *, after: bool = False):
    """A card image with `table`, KIOSKDATA as partition 2 (followed by partition 3 when
    `after`), then made larger, on a loop device; yields (disk, mount point)."""
    image = tmp_path / "card.img"
    sh("truncate", "-s", f"{IMAGE_MB}M", str(image))
    sh("sfdisk", "-q", str(image), input=TABLES[table] + (",8M\n" if after else ""))
    sh("truncate", "-s", f"{CARD_MB}M", str(image))
    disk = Path(sh("losetup", "-f", "--show", "-P", str(image)).strip())
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    try:
        # losetup -P does not always scan here; partx adds the partitions devtmpfs makes nodes for
        subprocess.run(["partx", "-a", str(disk)], capture_output=True, check=False)
        data = Path(f"{disk}p2")
        sh("mkfs.ext4", "-q", "-F", "-m", "0", "-L", "KIOSKDATA", str(data))
        sh("mount", str(data), str(mount_point))
        try:
            yield disk, mount_point
        finally:
            subprocess.run(["umount", str(mount_point)], check=False)
    finally:
        subprocess.run(["losetup", "-d", str(disk)], check=False)


def sectors(disk: Path, name: str) -> int:
    return int(Path(f"/sys/class/block/{name}/size").read_text())


def fs_size(device: Path) -> tuple[int, int]:
    """(bytes, block size) of the ext4 file system on `device`, from its superblock."""
    fields = dict(line.split(":", 1) for line in sh("dumpe2fs", "-h", str(device)).splitlines()
                  if ":" in line)
    block = int(fields["Block size"])
    return int(fields["Block count"]) * block, block


def grow(mount_point: Path) -> Outcome:
    outcome = Outcome()
    data_partition.grow(BootPaths(data_mount=mount_point), commands.run, outcome)
    return outcome


@pytest.mark.parametrize("table", ["dos", "gpt"])
def test_the_data_partition_and_its_file_system_grow_to_fill_the_card(tmp_path, table):
    with card(tmp_path, table) as (disk, mount_point):
        (mount_point / "journal.sqlite3").write_bytes(b"rows" * 100_000)
        before = os.statvfs(mount_point)
        outcome = grow(mount_point)
        part = f"{disk.name}p2"
        disk_sectors = sectors(disk, disk.name)
        end = int(Path(f"/sys/class/block/{part}/start").read_text()) + sectors(disk, part)
        # Up to the end of the card; a GPT keeps its backup table in the last 33 sectors.
        assert disk_sectors - end <= (33 if table == "gpt" else 0) + 2048
        if can_resize_online():
            assert [line.split(" grown")[0] for line in outcome.applied] == [
                f"data partition /dev/{part}", f"file system on /dev/{part}"]
        else:
            # The kernel refuses here: said so, and left for the next boot (no marker). Grow
            # it offline as the next boot's online resize would, then carry on.
            assert [line.split(" grown")[0] for line in outcome.applied] == [
                f"data partition /dev/{part}"]
            assert "cannot grow the file system" in outcome.facts["data_partition_not_grown"]
            assert not (mount_point / ".grown").exists()
            sh("umount", str(mount_point))
            sh("e2fsck", "-f", "-p", f"/dev/{part}")
            sh("resize2fs", f"/dev/{part}")
            sh("mount", f"/dev/{part}", str(mount_point))
            outcome = grow(mount_point)  # the next boot: partition full size, fs too
            assert outcome.applied == []
        fs_bytes, block = fs_size(Path(f"/dev/{part}"))
        # resize2fs rounds down a little (whole blocks, and a few of them at the end)
        assert sectors(disk, part) * 512 - 16 * block < fs_bytes <= sectors(disk, part) * 512
        after = os.statvfs(mount_point)
        assert after.f_blocks > before.f_blocks * 5
        assert (mount_point / "journal.sqlite3").read_bytes() == b"rows" * 100_000
        assert (mount_point / ".grown").is_file()
        table_now = sh("sfdisk", "--dump", str(disk))
        assert f"label: {table}" in table_now
        if table == "gpt":  # the backup header moved to the card's new end
            assert f"last-lba: {disk_sectors - 34}" in table_now

        again = grow(mount_point)
        assert again.applied == [] and again.facts == {}
        (mount_point / ".grown").unlink()  # even without the marker: nothing left to do
        third = grow(mount_point)
        assert third.applied == []
        assert third.facts["data_partition"].startswith(f"/dev/{part}, ")
        assert os.statvfs(mount_point).f_blocks == after.f_blocks


def test_a_data_partition_that_is_not_last_is_left_as_it_is(tmp_path, caplog):
    caplog.set_level("INFO")
    with card(tmp_path, "dos", after=True) as (disk, mount_point):
        size_before = sectors(disk, f"{disk.name}p2")
        outcome = grow(mount_point)
        assert sectors(disk, f"{disk.name}p2") == size_before
        assert outcome.applied == [] and outcome.problems == []
        assert (f"cannot grow the data partition /dev/{disk.name}p2: partition 3 comes after "
                f"it on {disk}") in caplog.text
        assert outcome.facts["data_partition_not_grown"].startswith("cannot grow")
        assert (mount_point / ".grown").is_file()  # a first-boot job: not tried at every boot


def test_a_partition_with_another_label_is_not_grown(tmp_path, caplog):
    caplog.set_level("INFO")
    with card(tmp_path, "dos") as (disk, mount_point):
        sh("e2label", f"{disk}p2", "OTHER")
        size_before = sectors(disk, f"{disk.name}p2")
        outcome = grow(mount_point)
        assert sectors(disk, f"{disk.name}p2") == size_before
        assert "labelled OTHER, not KIOSKDATA: not grown" in caplog.text
        assert outcome.applied == [] and not (mount_point / ".grown").exists()


def test_a_plain_folder_is_not_grown(tmp_path):
    outcome = grow(tmp_path)
    assert outcome.facts["data_partition"] == "a plain folder"
    assert not (tmp_path / ".grown").exists()


def test_mountinfo_is_read_with_escapes_and_the_last_mount_wins():
    text = ("22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
            "30 22 179:3 / /var/lib/my\\040kiosk rw - ext4 /dev/mmcblk0p3 rw\n"
            "31 30 0:40 / /var/lib/my\\040kiosk rw - tmpfs tmpfs rw\n")
    found = data_partition.find_mount(text, Path("/var/lib/my kiosk"))
    assert found == data_partition.Mount(0, 40, "tmpfs", "tmpfs", frozenset({"rw"}))
