"""The data folder's files only the kiosk's own user may read: 0600 files in a 0700 folder.

Patron hashes, keys, the central server's token, and (while offline transactions wait) card
numbers live there. New files are made private before anything is written to them (SQLite gives
`-wal` and `-shm` the main file's mode, so the main file is made 0600 before SQLite opens it);
a looser mode found on an existing file or folder is tightened, with a warning. Plain functions,
safe from any thread.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700
# What the kiosk keeps beside its journal (kiosk.data_dir), and tightens when it finds them open.
PRIVATE_NAMES = ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm",
                 "offline.sqlite3", "offline.sqlite3-wal", "offline.sqlite3-shm",
                 "patron.key", "link.key", "central.token", "upload-state.json", "upload.lock",
                 "journal.reserve", "pin-lockout.json")


def private_folder(folder: Path) -> None:
    """Make `folder` (mode 0700), or tighten it when others may read or enter it. Raises OSError
    when it cannot be made."""
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    tighten(folder, FOLDER_MODE)


def create_private(path: Path) -> bool:
    """An empty file at `path` with mode 0600, unless one is there; True when it was made.
    Raises OSError when it cannot be made."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def tighten(path: Path, mode: int = FILE_MODE) -> None:
    """Take away from `path` what `mode` does not allow, with a warning; a missing file is fine,
    and one that cannot be changed (another owner) is only warned about."""
    try:
        current = os.stat(path).st_mode & 0o777
    except OSError:
        return
    if not current & ~mode:
        return
    try:
        os.chmod(path, current & mode)
    except OSError as e:
        log.warning("%s: readable by others (mode %o) and cannot be made private: %s", path,
                    current, e.strerror)
        return
    log.warning("%s: was readable by others (mode %o); now %o", path, current, current & mode)


def tighten_data_folder(folder: Path) -> None:
    """The folder, and each of the kiosk's private files in it."""
    tighten(folder, FOLDER_MODE)
    for name in PRIVATE_NAMES:
        tighten(folder / name)
