"""Counting the pages a writer puts in a SQLite WAL: exact, unlike a timing, so tests can
assert it and bench/journal_append.py reports it.

A WAL file is a 32-byte header and one frame (a 24-byte header and one page) per page written
by each commit. Counted from the file's length after a TRUNCATE checkpoint emptied it, and
checked against SQLite's own frame count (`wal_checkpoint`'s second value), so a checkpoint
that restarted the WAL in between cannot pass unnoticed.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

WAL_HEADER = 32
FRAME_HEADER = 24


def wal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + "-wal")


def empty_wal(db_path: Path) -> None:
    """Copy every frame into the file and cut the WAL to nothing (no other connection may be
    reading: then the truncation is refused, and this raises)."""
    with _connect(db_path) as db:
        busy, _frames, _copied = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy or _size(wal_path(db_path)):
        raise RuntimeError(f"{db_path}: the WAL could not be emptied")


def frames(db_path: Path) -> int:
    """Frames in the WAL since `empty_wal`, by its length and by SQLite's count (the same).
    Ends the count: SQLite's count is a checkpoint, after which the WAL may start over."""
    size = _size(wal_path(db_path))
    if not size:
        return 0
    with _connect(db_path) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        _busy, counted, _copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    by_length, rest = divmod(size - WAL_HEADER, FRAME_HEADER + page_size)
    if rest or by_length != counted:
        raise RuntimeError(f"{db_path}: WAL of {size} bytes but {counted} frames: it was "
                           "checkpointed and restarted while counting")
    return by_length


def _size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


class _connect:
    """A plain connection closed on leaving the `with` (sqlite3's own only ends transactions)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()
