"""Why one of the kiosk's SQLite files (the journal, the offline store) could not be opened, read
or written, named truly, and what a technician does about it.

The cause is one of `kiosk.errors.JOURNAL_CAUSES`: "full", "read_only", "damaged", "replaced",
"io". SQLite's result code says most of it (Python 3.11's sqlite3 errors carry it); a disk I/O
error is looked at more closely, because SQLite reports a write refused by a full or read-only
partition that way too: the partition's flags and free space (statvfs) name the real cause.
Pure apart from those look-ups; any thread.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from kiosk import system, wal_index
from kiosk.sizes import size_text

# SQLite's primary result codes, and the extended codes that change the cause.
_READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB, _PERM = 8, 10, 11, 13, 14, 26, 3
_READONLY_DBMOVED = 1032  # the file was renamed or deleted under the connection
_BUSY, _LOCKED = 5, 6
NEARLY_FULL_BYTES = 64 * 1024  # below this, a failed write is put down to the full disk
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_DENIED_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def cause_of(error: BaseException, path: Path) -> str:
    """The cause of `error` (a sqlite3.Error or an OSError) met on the file `path`."""
    if isinstance(error, OSError):
        if error.errno in _FULL_ERRNOS:
            return "full"
        if error.errno in _DENIED_ERRNOS:
            return "read_only"
        if error.errno == errno.ENOENT:
            return "replaced"
        return cause_from_disk(path)
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return cause_from_disk(path)
    primary = code & 0xFF
    if primary == _FULL:
        return "full"
    if code == _READONLY_DBMOVED:
        return "replaced"
    if primary in (_READONLY, _PERM):
        return "read_only"
    if primary in (_CORRUPT, _NOTADB):
        return "damaged"
    if primary == _CANTOPEN:
        if not os.path.isdir(path.parent):
            return "replaced"  # the data folder itself went away
        return cause_from_disk(path)
    return cause_from_disk(path)


def cause_from_disk(path: Path) -> str:
    """A disk I/O error's real cause: a read-only or full partition, a folder the kiosk may not
    write, or (only then) the disk itself. Tries to make a file in the folder: statvfs alone
    misses the read-only state a kernel puts an ext4 in after errors ("emergency_ro")."""
    folder = path.parent
    try:
        st = os.statvfs(folder)
    except OSError:
        return "io"
    if st.f_flag & os.ST_RDONLY:
        return "read_only"
    refused = system.write_refused(folder)
    if refused in _FULL_ERRNOS:
        return "full"
    if refused in _DENIED_ERRNOS:
        return "read_only"
    if st.f_bavail * st.f_frsize < NEARLY_FULL_BYTES:
        return "full"
    return "io"


def partition_read_only(folder: Path) -> bool:
    """Whether the partition holding `folder` refuses every write (mounted so, or made so by
    the kernel after errors), as against a folder this user may not write."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return system.write_refused(folder) == errno.EROFS


def describe(cause: str, path: Path, what: str, detail: str) -> str:
    """What is wrong with `path` (the `what`: "journal", "offline store") and what to do."""
    folder = path.parent
    if cause == "full":
        free = wal_index.free_bytes(folder)
        return (f"the data partition is full ({size_text(free)} free at {folder}; {detail}): "
                "remove what is not the kiosk's from it (copies, exports, old logs) or give it "
                f"more room; keep the {what} and the key files. The kiosk resumes by itself "
                "once it can write again")
    if cause == "read_only":
        if partition_read_only(folder):
            return (f"the data partition is read-only ({folder}; {detail}): the kernel makes an "
                    "SD card read-only after write errors (see 'dmesg'); copy the data folder "
                    "off, then check or replace the card and mount it read-write again")
        return (f"the data folder is read-only for the kiosk ({folder}; {detail}): give the "
                "kiosk's user write access to the folder and its files (chown, chmod u+w)")
    if cause == "replaced":
        return (f"the {what} file was deleted, replaced or cut short while the kiosk was "
                f"running ({detail}); nothing more is written to it: restart the kiosk (it "
                "then opens the file that is there, or starts a new one), and find out what "
                "changed the file; keep any copy of it")
    if cause == "damaged":
        return (f"the {what} is damaged or not a kiosk {what} ({detail}): stop the kiosk, move "
                f"the file aside and keep it for inspection ('kiosk journal verify --file' "
                f"reads a copy); the kiosk then starts a new {what}")
    return (f"the disk reported an error ({detail}): check the SD card ('dmesg'), and "
            "replace it if errors repeat; copy the data folder off first")


def detail_of(error: BaseException) -> str:
    """The words SQLite or the OS used, with SQLite's error name when it gave one."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    name = getattr(error, "sqlite_errorname", None)
    text = str(error)
    return f"{text}, {name}" if name and name not in text else text


def is_busy(error: BaseException) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_BUSY, _LOCKED)


def explain(error: BaseException, path: Path, what: str, doing: str) -> tuple[str, str]:
    """(cause, message) for `error` met while `doing` ("write checkout ok", "open") on `path`."""
    detail = detail_of(error)
    if is_busy(error):
        return "io", (f"{path}: cannot {doing}: another process kept the {what} locked too long "
                      f"({detail}); the uploader or a 'kiosk journal' command may be running: "
                      "the kiosk tries again")
    cause = cause_of(error, path)
    return cause, f"{path}: cannot {doing}: {describe(cause, path, what, detail)}"
