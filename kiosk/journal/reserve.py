"""A reserve of disk space in the data folder, so that a full partition still leaves the kiosk
room to journal that it went out of service, and the rows after that until staff free space.

The reserve is one file (`journal.reserve`, 0600) whose blocks are allocated (fallocate), not a
sparse promise. The runtime calls `ensure()` at start and whenever writing works again, and
`release()` when a write fails because the partition is full; `kiosk journal stats` and the
doctor's disk check count it as space that can be freed. Size: `[journal] reserve_mb`
(0: no reserve). Plain functions, any thread.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from common.files import fsync_dir
from kiosk import private_files

log = logging.getLogger(__name__)
FILE_NAME = "journal.reserve"


def reserve_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def ensure(data_dir: Path, size_bytes: int) -> bool:
    """Make the reserve `size_bytes` long (allocated) when there is room; True when it is there
    in full afterwards. With `size_bytes` 0 any reserve is removed (and True is returned)."""
    path = reserve_path(data_dir)
    if size_bytes <= 0:
        release(data_dir)
        return True
    before = size(data_dir)
    if before >= size_bytes:
        return True
    try:
        private_files.private_folder(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, private_files.FILE_MODE)
    except OSError as e:
        log.warning("%s: cannot make the space reserve: %s", path, e.strerror)
        return False
    try:
        os.posix_fallocate(fd, 0, size_bytes)
        os.fsync(fd)
    except OSError as e:
        # What was reserved before stays; a part of the growth would only hide how full the
        # partition is.
        try:
            if before:
                os.ftruncate(fd, before)
            else:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)
        log.warning("%s: no room for a %d KB space reserve (%s)", path, size_bytes >> 10,
                    e.strerror)
        return False
    os.close(fd)
    private_files.tighten(path)
    fsync_dir(path.parent)
    log.info("%s: %d KB of space reserved for the journal", path, size_bytes >> 10)
    return True


def release(data_dir: Path) -> bool:
    """Delete the reserve, giving its space back to the partition; True when there was one."""
    path = reserve_path(data_dir)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as e:
        log.error("%s: cannot release the space reserve: %s", path, e.strerror)
        return False
    log.warning("%s: space reserve released for the journal", path)
    return True


def size(data_dir: Path) -> int:
    """Bytes the reserve holds on the disk now (0 when there is none)."""
    try:
        st = os.stat(reserve_path(data_dir))
    except OSError:
        return 0
    return min(st.st_size, st.st_blocks * 512)
