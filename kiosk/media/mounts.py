"""Mounting a stick's file systems for one connection, and unmounting them all when it ends.

Every mount is read-only, nosuid, nodev and noexec (ext* also `noload`: a read-only mount
must not replay a dirty journal onto the stick), at MOUNT_ROOT/<connection>-<device name>.
Nothing from the stick is ever run. The connection's own thread; the tools run through a
Runner.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from kiosk.commands import Runner
from kiosk.media.devices import UsbFileSystem

log = logging.getLogger(__name__)
OPTIONS = "ro,nosuid,nodev,noexec"
EXTRA_OPTIONS = {"ext4": "noload", "ext3": "noload", "ext2": ""}


class MountError(RuntimeError):
    pass


def mount_options(fstype: str) -> str:
    extra = EXTRA_OPTIONS.get(fstype, "")
    return f"{OPTIONS},{extra}" if extra else OPTIONS


class Mounts:
    """The mounts one connection made; `close()` unmounts them (idempotent)."""

    def __init__(self, root: Path, tag: str, runner: Runner) -> None:
        self.root, self.tag, self.runner = root, tag, runner
        self.points: dict[str, Path] = {}  # device -> mount point
        self._lock = threading.Lock()  # the connection's thread, or the helper stopping

    def mount(self, fs: UsbFileSystem) -> Path:
        with self._lock:
            return self._mount(fs)

    def _mount(self, fs: UsbFileSystem) -> Path:
        if fs.device in self.points:
            return self.points[fs.device]
        if fs.fstype is None:  # devices.scan probes it first; never mount with a guessed type
            raise MountError(f"{fs.device}: its file system type is not known")
        self.root.mkdir(mode=0o755, parents=True, exist_ok=True)
        point = self.root / f"{self.tag}-{fs.name}"
        point.mkdir(mode=0o755, exist_ok=True)
        result = self.runner(["mount", "-t", fs.fstype, "-o", mount_options(fs.fstype),
                              fs.device, str(point)])
        if not result.ok:
            _remove(point)
            raise MountError(f"{fs.device}: {result.why}")
        log.info("mounted %s (%s, %s) read-only at %s", fs.device, fs.fstype,
                 fs.label or "no label", point)
        self.points[fs.device] = point
        return point

    def owns(self, path: Path) -> Path | None:
        """The mount point of ours that `path` lies directly in, or None."""
        return next((p for p in self.points.values() if path.parent == p), None)

    def close(self) -> int:
        count = 0
        with self._lock:
            for device, point in list(self.points.items()):
                unmount(point, self.runner)
                del self.points[device]
                count += 1
        return count


def unmount(point: Path, runner: Runner) -> None:
    result = runner(["umount", str(point)])
    if not result.ok:  # a file still open: detach it now, the kernel finishes later
        log.warning("umount %s: %s; detaching it instead", point, result.why)
        runner(["umount", "--lazy", str(point)])
    else:
        log.info("unmounted %s", point)
    _remove(point)


def unmount_stale(root: Path, runner: Runner) -> None:
    """Mounts a helper that died left behind (its connections are gone)."""
    if not root.is_dir():
        return
    for point in sorted(root.iterdir()):
        if os.path.ismount(point):
            log.warning("unmounting %s, left by a helper that stopped", point)
            unmount(point, runner)
        else:
            _remove(point)


def _remove(point: Path) -> None:
    try:
        point.rmdir()
    except OSError:
        pass
