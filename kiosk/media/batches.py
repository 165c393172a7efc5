"""The e-book batches at the top of a mounted stick: a tar (`2026-12.tar`, also compressed), or
a folder holding manifest.json. Only found and measured, never opened: the app checks the
signature and every file itself (kiosk.media.batch_apply). Symlinks are never followed and
hidden names (macOS's ._ files) skipped. The connection's thread.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from content.batch_source import MANIFEST
from kiosk.media.protocol import Batch

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.bz2")
MAX_BATCHES = 50  # per stick; a stick holds a few months at most
MAX_FOLDER_FILES = 100_000  # a folder's size is counted up to this many files


def on_stick(point: Path) -> list[Batch]:
    found: list[Batch] = []
    with os.scandir(point) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if len(found) >= MAX_BATCHES:
                break
            if entry.name.startswith("."):
                continue
            if entry.is_file(follow_symlinks=False) and is_tar_name(entry.name):
                found.append(Batch(entry.path, entry.name,
                                   entry.stat(follow_symlinks=False).st_size, folder=False))
            elif entry.is_dir(follow_symlinks=False) and _has_manifest(Path(entry.path)):
                found.append(Batch(entry.path, entry.name, folder_size(Path(entry.path)),
                                   folder=True))
    return found


def is_tar_name(name: str) -> bool:
    return name.lower().endswith(TAR_SUFFIXES)


def _has_manifest(folder: Path) -> bool:
    try:
        return stat.S_ISREG((folder / MANIFEST).lstat().st_mode)
    except OSError:
        return False


def folder_size(folder: Path) -> int:
    """The bytes of the regular files under `folder`, links not followed."""
    total, counted = 0, 0
    for top, _dirs, files in os.walk(folder):
        for name in files:
            try:
                info = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
            counted += 1
            if counted >= MAX_FOLDER_FILES:
                return total
    return total
