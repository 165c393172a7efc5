"""Growing the data partition to fill the SD card, once, on the first boot.

The image is small so it writes fast; the card is large. When /data is a mounted ext4
partition labelled KIOSKDATA and it is the last partition on its disk with room after it, the
partition is grown to the end of the disk with sfdisk (`-N`, `--no-reread --no-tell-kernel`, as
the file system stays mounted), the kernel is told with `partx -u` (BLKPG: the running kernel
takes the new size of a partition in use, no reboot), and the file system grown online with
resize2fs. sfdisk rather than growpart: growpart (cloud-guest-utils) is a shell script around
the same sfdisk and partx, one more package on the image for no more safety; sfdisk also moves
a GPT's backup header to the new end of the disk by itself.

A marker file on the partition (`.grown`) makes it a first-boot job; it is written only when
the partition fills its disk (or cannot grow, e.g. not the last one), so a failure is tried
again at the next boot. resize2fs runs even when the partition needed no growing, so a boot cut
short between sfdisk and resize2fs is finished by the next one. Not growing is never a problem
for the report: the kiosk works on a small partition, and the log says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kiosk.bootsetup import files
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from kiosk.commands import Runner
from kiosk.sizes import size_text

LABEL = "KIOSKDATA"
SECTOR = 512  # /sys/class/block sizes are in 512-byte units whatever the disk's sector size
MIN_GROWTH_BYTES = 16 * 1024 * 1024  # less room than this after the partition: not worth it
# Report facts: what the data folder is, and why the partition did not grow (doctor warns).
FACT = "data_partition"
NOT_GROWN_FACT = "data_partition_not_grown"


@dataclass(frozen=True)
class Mount:
    major: int
    minor: int
    fstype: str
    source: str
    options: frozenset[str] = frozenset()  # the mount's own (ro, noatime ...)
    root: str = "/"  # the folder of the file system mounted here: /kiosk for a bind of /data/kiosk


@dataclass(frozen=True)
class Partition:
    name: str       # e.g. mmcblk0p3, loop0p2
    number: int
    start: int      # in 512-byte sectors
    size: int
    disk: str       # e.g. mmcblk0
    disk_size: int
    followed_by: int | None  # the number of a partition that starts after this one

    @property
    def room_after(self) -> int:
        """Bytes between the partition's end and the disk's end."""
        return (self.disk_size - self.start - self.size) * SECTOR


def find_mount(mountinfo: str, mount_point: Path) -> Mount | None:
    """The file system mounted at `mount_point` (the last one mounted there), from
    /proc/self/mountinfo's text."""
    found = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        dash = fields.index("-", 6)
        if unescape(fields[4]) != str(mount_point):
            continue
        major, _, minor = fields[2].partition(":")
        found = Mount(int(major), int(minor), fields[dash + 1], unescape(fields[dash + 2]),
                      frozenset(fields[5].split(",")), unescape(fields[3]))
    return found


def unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in octal (\\040)."""
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


def read_partition(sys_dev_block: Path, major: int, minor: int) -> Partition | None:
    """The partition with this device number and its disk, from /sys; None for a whole disk
    (an image mounted with -o loop) or a device that is not a block device."""
    try:
        node = (sys_dev_block / f"{major}:{minor}").resolve(strict=True)
        if not (node / "partition").is_file():
            return None
        disk = node.parent
        number = int((node / "partition").read_text())
        start, size = _sectors(node, "start"), _sectors(node, "size")
        later = [int((p / "partition").read_text()) for p in disk.iterdir()
                 if (p / "partition").is_file() and p != node and _sectors(p, "start") > start]
        return Partition(node.name, number, start, size, disk.name, _sectors(disk, "size"),
                         min(later) if later else None)
    except (OSError, ValueError):
        return None


def _sectors(node: Path, name: str) -> int:
    return int((node / name).read_text())


def grow(paths: BootPaths, runner: Runner, outcome: Outcome) -> None:
    if paths.grown_marker.exists():
        return
    try:
        mountinfo = paths.mountinfo.read_text()
    except OSError as e:
        outcome.warn(f"cannot read {paths.mountinfo}: {e.strerror}; data partition not grown")
        return
    mount = find_mount(mountinfo, paths.data_mount)
    if mount is None:
        outcome.facts[FACT] = "a plain folder"
        outcome.note(f"{paths.data_mount} is a plain folder, not a partition: nothing to grow")
        return
    part = read_partition(paths.sys_dev_block, mount.major, mount.minor)
    if mount.fstype != "ext4" or part is None:
        outcome.facts[FACT] = f"{mount.source} ({mount.fstype})"
        outcome.note(f"{paths.data_mount} is {mount.source} ({mount.fstype}), not an ext4 "
                     "partition: not grown")
        return
    device, disk = paths.dev / part.name, paths.dev / part.disk
    label = runner(["blkid", "-p", "-s", "LABEL", "-o", "value", str(device)]).stdout.strip()
    if label != LABEL:
        outcome.facts[FACT] = f"{device}, not labelled {LABEL}"
        outcome.note(f"{device} at {paths.data_mount} is labelled {label or 'nothing'}, not "
                     f"{LABEL}: not grown")
        return
    if part.followed_by is not None and part.room_after >= MIN_GROWTH_BYTES:
        outcome.facts[FACT] = f"{device}, {size_text(part.size * SECTOR)}"
        _not_grown(outcome, f"cannot grow the data partition {device}: partition "
                            f"{part.followed_by} comes after it on {disk}; it stays "
                            f"{size_text(part.size * SECTOR)}")
        _mark_grown(paths, outcome)
        return
    if part.followed_by is None and part.room_after >= MIN_GROWTH_BYTES:
        if not _grow_partition(part, device, disk, runner, outcome):
            return
        part = read_partition(paths.sys_dev_block, mount.major, mount.minor) or part
    resized = runner(["resize2fs", str(device)])
    if not resized.ok:
        outcome.facts[FACT] = f"{device}, {size_text(part.size * SECTOR)}"
        hint = (" (the kernel wants CAP_SYS_RESOURCE to grow a mounted file system: keep it "
                "in kiosk-firstboot.service)" if "Permission denied" in resized.why else "")
        _not_grown(outcome, f"cannot grow the file system on {device}: {resized.why}{hint}; "
                            "tried again at the next boot")
        return
    if "Nothing to do" not in resized.stdout + resized.stderr:
        outcome.changed(f"file system on {device} grown to fill its partition "
                        f"({size_text(part.size * SECTOR)})")
    outcome.facts[FACT] = f"{device}, {size_text(part.size * SECTOR)}"
    _mark_grown(paths, outcome)


def _grow_partition(part: Partition, device: Path, disk: Path, runner: Runner,
                    outcome: Outcome) -> bool:
    before = part.size * SECTOR
    # ", +": same start, as large as the disk allows. The file system is mounted, so sfdisk
    # must not ask the kernel to re-read the whole table (it would refuse, disk busy).
    table = runner(["sfdisk", "--no-reread", "--no-tell-kernel", "-N", str(part.number),
                    str(disk)], input=", +\n")
    if not table.ok:
        outcome.facts[FACT] = f"{device}, {size_text(before)}"
        _not_grown(outcome, f"cannot grow the data partition {device} (sfdisk: {table.why}); "
                            "tried again at the next boot")
        return False
    told = runner(["partx", "-u", "--nr", str(part.number), str(disk)])
    if not told.ok:
        outcome.facts[FACT] = f"{device}, {size_text(before)}"
        _not_grown(outcome, f"grew the data partition {device}, but the kernel still uses the "
                            f"old size (partx: {told.why}); the next boot finishes it")
        return False
    outcome.changed(f"data partition {device} grown to the end of {disk} "
                    f"(was {size_text(before)}, room after it {size_text(part.room_after)})")
    return True


def _not_grown(outcome: Outcome, why: str) -> None:
    outcome.facts[NOT_GROWN_FACT] = why
    outcome.warn(why)


def _mark_grown(paths: BootPaths, outcome: Outcome) -> None:
    try:
        files.write_atomically(paths.grown_marker,
                               b"kiosk boot-setup: the data partition was grown, or cannot be\n",
                               mode=0o644)
    except OSError as e:
        outcome.warn(f"cannot write {paths.grown_marker}: {e.strerror}; the partition is "
                     "looked at again at the next boot")
