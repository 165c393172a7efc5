"""Opening the kiosk's own SQLite files (the journal, the offline store) without harming others.

A file that is not ours, or was made by a newer kiosk, is refused with a clear message and left
exactly as it was: WAL and `synchronous=FULL` are switched on only once the file is known to be
ours. A new file gets its tables in one transaction, so two processes starting at once make
them once. Connections are in autocommit mode: their users begin transactions explicitly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.errors import KioskError


@dataclass(frozen=True)
class OwnFile:
    what: str                    # "journal", "offline store": named in every message
    version: int                 # PRAGMA user_version this kiosk writes and reads
    create: Sequence[str]        # the statements that make a new file (they set user_version)
    error: type[KioskError]
    unreadable_advice: str       # what staff should do with a file SQLite cannot read
    application_id: int = 0      # 0: told by user_version alone (the journal predates this)
    pragmas: Sequence[str] = ()  # more settings for every connection
    busy_timeout_s: float = 5.0
    # Statements that take a file from version k to k + 1 (they set user_version), run in one
    # transaction at open.
    upgrades: Mapping[int, Sequence[str]] = field(default_factory=dict)


def open_own(path: Path, kind: OwnFile, *, create: bool,
             check_same_thread: bool = True) -> sqlite3.Connection:
    error = kind.error
    try:
        db = sqlite3.connect(path, timeout=kind.busy_timeout_s, isolation_level=None,
                             check_same_thread=check_same_thread)
    except sqlite3.Error as e:
        raise error(f"{path}: cannot open the {kind.what}: {e}") from e
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        if version == 0 and app_id == 0 and create:
            _make(db, path, kind)
        elif app_id != kind.application_id or version == 0:
            what = "another database" if app_id != kind.application_id else f"no {kind.what} tables"
            raise error(f"{path}: not a kiosk {kind.what} ({what})")
        elif version > kind.version:
            raise error(f"{path}: made by a newer kiosk ({kind.what} version {version}, this one "
                        f"knows {kind.version}); update the software")
        for pragma in ("journal_mode = WAL", "synchronous = FULL", *kind.pragmas):
            db.execute(f"PRAGMA {pragma}")
        if 0 < version < kind.version:
            _upgrade(db, path, kind)
    except sqlite3.DatabaseError as e:
        db.close()
        raise error(f"{path}: not a readable {kind.what} ({e}); {kind.unreadable_advice}") from e
    except KioskError:
        db.close()
        raise
    return db


def _upgrade(db: sqlite3.Connection, path: Path, kind: OwnFile) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have upgraded it while we waited for the lock.
        version = db.execute("PRAGMA user_version").fetchone()[0]
        while version < kind.version:
            steps = kind.upgrades.get(version)
            if steps is None:
                raise kind.error(f"{path}: {kind.what} version {version} cannot be upgraded by "
                                 f"this kiosk (it knows {kind.version})")
            for statement in steps:
                db.execute(statement)
            version = db.execute("PRAGMA user_version").fetchone()[0]
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _make(db: sqlite3.Connection, path: Path, kind: OwnFile) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have made it while we waited for the lock.
        if db.execute("PRAGMA user_version").fetchone()[0] == 0:
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise kind.error(f"{path}: not a kiosk {kind.what} (holds other tables)")
            for statement in kind.create:
                db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
