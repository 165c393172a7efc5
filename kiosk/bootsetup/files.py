"""Writing system files so that a power cut leaves the old file or the new one, never half.

A temporary file beside the target gets its mode and owner before any byte is written (a secret
is never readable by others, not even for a moment), is synced, renamed over the target, and
the folder is synced.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from pathlib import Path

from common.files import fsync_dir

ROOT_OWNER = (0, 0)


def write_atomically(path: Path, data: bytes, *, mode: int,
                     owner: tuple[int, int] | None = None) -> None:
    """Replace `path` with `data`; raises OSError (the target as it was) when it cannot."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchmod(fd, mode)  # the umask does not decide what a system file's mode is
            if owner is not None:
                os.fchown(fd, *owner)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes, None when there is no such file (or it cannot be read)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def write_if_changed(path: Path, data: bytes, *, mode: int,
                     owner: tuple[int, int] | None = None) -> bool:
    """Write unless the file already holds `data` with this mode (and owner); True if written."""
    if read_bytes(path) == data:
        st = path.stat()
        if st.st_mode & 0o7777 == mode and (owner is None or (st.st_uid, st.st_gid) == owner):
            return False
    write_atomically(path, data, mode=mode, owner=owner)
    return True


def make_folders(folder: Path, mode: int = 0o755) -> None:
    """`folder` and its missing parents with `mode` (root's, e.g. under /run)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=mode)
        os.chmod(p, mode)


def remove(path: Path) -> bool:
    """Delete `path` for good (the folder synced); True when there was a file to delete."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def remove_or_warn(path: Path, warn: Callable[[str], None]) -> bool:
    """`remove`, with a failure only warned about: for files we make again at every boot."""
    try:
        return remove(path)
    except OSError as e:
        warn(f"cannot remove {path}: {e.strerror}")
        return False


def user_ids(name: str) -> tuple[int, int] | None:
    """(uid, gid) of a user, or None when there is no such user (a developer's machine)."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid
