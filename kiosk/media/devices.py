"""Which block devices are a USB stick's file systems: `lsblk --json` read, nothing mounted.

A disk counts when it hangs off USB (`tran` "usb") or says it is removable or hot-plugged;
its file systems (partitions, or the whole disk of a "superfloppy" stick) are candidates when
their type is one we mount. A disk with anything mounted that is not ours (the SD card's root,
/data, /boot/firmware) is never a candidate, whatever it claims. Pure parsing plus one
Runner call; the caller's thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from kiosk.commands import Runner, parse_properties

LSBLK_ARGV = ("lsblk", "--json", "--bytes", "--output",
              "NAME,PATH,TYPE,FSTYPE,LABEL,SIZE,RM,HOTPLUG,TRAN,MOUNTPOINTS")
# What a technician's stick is formatted with; the kernel of Debian 12 mounts each natively.
FILE_SYSTEMS = ("vfat", "exfat", "ext4", "ext3", "ext2")


class DeviceError(RuntimeError):
    """lsblk failed or said what cannot be read."""


@dataclass(frozen=True)
class UsbFileSystem:
    device: str        # /dev/sda1
    name: str          # sda1: the mount point's name
    fstype: str | None  # None until probed
    label: str | None
    size: int


def usb_file_systems(lsblk_json: str, ours: Path) -> list[UsbFileSystem]:
    """The USB file systems in lsblk's answer; those already mounted under `ours` (by this
    helper) still count, mounts anywhere else rule out their whole disk."""
    try:
        disks = json.loads(lsblk_json)["blockdevices"]
    except (ValueError, KeyError, TypeError) as e:
        raise DeviceError(f"lsblk said what cannot be read ({e})") from None
    found: list[UsbFileSystem] = []
    for disk in disks or []:
        if disk.get("type") != "disk" or not _is_usb(disk):
            continue
        nodes = [disk, *_descendants(disk)]
        if any(_mounted_elsewhere(node, ours) for node in nodes):
            continue
        for node in nodes:
            # A disk with partitions is not itself a file system; udev may not have probed a
            # stick plugged in a moment ago (fstype None): `scan` asks blkid then.
            if node is disk and node.get("children"):
                continue
            fstype = node.get("fstype")
            if (fstype in FILE_SYSTEMS or fstype is None) and node.get("path") \
                    and node.get("name"):
                found.append(UsbFileSystem(node["path"], node["name"], fstype,
                                           node.get("label") or None, int(node.get("size") or 0)))
    return found


def scan(runner: Runner, ours: Path) -> list[UsbFileSystem]:
    """The USB file systems we can mount, those udev has not probed yet probed with blkid."""
    result = runner(list(LSBLK_ARGV))
    if not result.ok:
        raise DeviceError(f"lsblk failed: {result.why}")
    found = []
    for fs in usb_file_systems(result.stdout, ours):
        if fs.fstype is None:
            fs = probe(fs, runner)
        if fs.fstype in FILE_SYSTEMS:
            found.append(fs)
    return found


def probe(fs: UsbFileSystem, runner: Runner) -> UsbFileSystem:
    """blkid's low-level probe of the device itself (no cache): TYPE and LABEL."""
    result = runner(["blkid", "--probe", "--output", "export", fs.device])
    values = parse_properties(result.stdout) if result.ok else {}
    return replace(fs, fstype=values.get("TYPE"), label=values.get("LABEL") or fs.label)


def _is_usb(disk: dict) -> bool:
    return disk.get("tran") == "usb" or _flag(disk.get("rm")) or _flag(disk.get("hotplug"))


def _flag(value: object) -> bool:
    return value is True or value in ("1", 1)


def _descendants(node: dict):
    for child in node.get("children") or []:
        yield child
        yield from _descendants(child)


def _mounted_elsewhere(node: dict, ours: Path) -> bool:
    points = [p for p in node.get("mountpoints") or [node.get("mountpoint")] if p]
    return any(not Path(p).is_relative_to(ours) for p in points)
