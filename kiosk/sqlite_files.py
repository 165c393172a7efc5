"""Opening the kiosk's own SQLite files (the journal, the offline store) without harming others,
and without dying of a full disk.

A file that is not ours, or was made by a newer kiosk, is refused with a clear message and left
exactly as it was: WAL and `synchronous=FULL` are switched on only once the file is known to be
ours. A new file is made private (0600, in a 0700 folder) before SQLite opens it, and gets its
tables in one transaction, so two processes starting at once make them once; an older version is
upgraded in one transaction. Connections are in autocommit mode: their users begin transactions
explicitly.

A full partition must not kill the process (see `kiosk.wal_index`): when the WAL index could not
be mapped safely, a reader keeps it in its own memory (`locking_mode=EXCLUSIVE`, so it waits for
or blocks other connections while it lives: a command's few seconds), and a writer refuses with
the cause "full" before touching the file. Every failure is raised as the file's error with a
message that names the cause (`kiosk.sqlite_faults`); a JournalError also carries it in `.cause`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import private_files, sqlite_faults, wal_index
from kiosk.errors import JournalError, KioskError
from kiosk.sizes import file_size

log = logging.getLogger(__name__)


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
    # For a reader that cannot upgrade an older file (the partition is full or read-only):
    # statements making empty TEMP stand-ins for what the newer versions added, by version.
    read_older: Mapping[int, Sequence[str]] = field(default_factory=dict)
    new_file_pragmas: Sequence[str] = ()  # set before a new file's tables are made


def fault(kind: OwnFile, cause: str, message: str) -> KioskError:
    """The file's error for `message`, carrying `cause` when the error class takes one."""
    if issubclass(kind.error, JournalError):
        return kind.error(message, cause=cause)
    return kind.error(message)


def failure(kind: OwnFile, path: Path, error: BaseException, doing: str) -> KioskError:
    """The file's error for a sqlite3.Error or OSError met while `doing`, its cause named."""
    cause, message = sqlite_faults.explain(error, path, kind.what, doing)
    return fault(kind, cause, message)


def open_own(path: Path, kind: OwnFile, *, create: bool,
             check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection to `path`; `create` opens it for writing (making it when missing)."""
    if create:
        _make_private(path, kind)
    room = wal_index.room_to_map(path)
    in_memory_index = not room.enough
    if in_memory_index and create:
        raise fault(kind, "full", f"{path}: cannot open the {kind.what} for writing: "
                    + sqlite_faults.describe("full", path, kind.what,
                                             f"{room.needed // 1024} KB needed for its index"))
    try:
        return _connect(path, kind, create, check_same_thread, in_memory_index)
    except KioskError as e:
        if create or getattr(e, "cause", None) != "read_only" and not _partition_read_only(path):
            raise
        if file_size(wal_index.wal_path(path)) > 0:
            raise
        # A read-only partition (a copy on a write-protected card): with no WAL to read, the
        # file is all there is and nothing can change it, so SQLite may skip its locks.
        log.info("%s: on a read-only partition; reading it as it is", path)
        return _connect(path, kind, create, check_same_thread, False, immutable=True)


def _connect(path: Path, kind: OwnFile, create: bool, check_same_thread: bool,
             in_memory_index: bool, immutable: bool = False) -> sqlite3.Connection:
    try:
        if immutable:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True,
                                 timeout=kind.busy_timeout_s, isolation_level=None,
                                 check_same_thread=check_same_thread)
        else:
            db = sqlite3.connect(path, timeout=kind.busy_timeout_s, isolation_level=None,
                                 check_same_thread=check_same_thread)
    except sqlite3.Error as e:
        raise failure(kind, path, e, f"open the {kind.what}") from e
    try:
        if in_memory_index:
            # Before the first read: SQLite then never maps a -shm file for this connection.
            log.info("%s: little free space; reading with the WAL index in memory", path)
            db.execute("PRAGMA locking_mode = EXCLUSIVE")
        _check_and_set_up(db, path, kind, create, immutable)
        if create:
            wal_index.allocate(path)
    except sqlite3.DatabaseError as e:
        db.close()
        cause, message = sqlite_faults.explain(e, path, kind.what, f"open the {kind.what}")
        if cause == "damaged":
            message = (f"{path}: not a readable {kind.what} ({sqlite_faults.detail_of(e)}); "
                       f"{kind.unreadable_advice}")
        raise fault(kind, cause, message) from e
    except OSError as e:  # the index could not be allocated
        db.close()
        raise failure(kind, path, e, f"open the {kind.what} for writing") from e
    except KioskError:
        db.close()
        raise
    return db


def _partition_read_only(path: Path) -> bool:
    return sqlite_faults.partition_read_only(path.parent)


def _make_private(path: Path, kind: OwnFile) -> None:
    try:
        private_files.private_folder(path.parent)
        private_files.create_private(path)
    except OSError as e:
        raise failure(kind, path, e, f"create the {kind.what}") from e
    for name in (path, wal_index.wal_path(path), wal_index.shm_path(path)):
        private_files.tighten(name)


def _check_and_set_up(db: sqlite3.Connection, path: Path, kind: OwnFile, create: bool,
                      immutable: bool = False) -> None:
    error = kind.error
    version = db.execute("PRAGMA user_version").fetchone()[0]
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    if version == 0 and app_id == 0 and create:
        _make(db, path, kind)
    elif app_id != kind.application_id or version == 0:
        what = "another database" if app_id != kind.application_id else f"no {kind.what} tables"
        raise fault(kind, "damaged", f"{path}: not a kiosk {kind.what} ({what})")
    elif version > kind.version:
        raise error(f"{path}: made by a newer kiosk ({kind.what} version {version}, this one "
                    f"knows {kind.version}); update the software")
    if not immutable:  # (an immutable file is read as it is)
        for pragma in ("journal_mode = WAL", "synchronous = FULL", *kind.pragmas):
            db.execute(f"PRAGMA {pragma}")
    if 0 < version < kind.version:
        try:
            if immutable:
                raise sqlite3.OperationalError("attempt to write a readonly database")
            _upgrade(db, path, kind)
        except sqlite3.DatabaseError as e:
            cause = sqlite_faults.cause_of(e, path)
            if create or cause not in ("full", "read_only") or version not in kind.read_older:
                raise
            # Read it as it is: the kiosk upgrades it once it can write.
            log.warning("%s: %s version %d not upgraded (%s); reading it as it is", path,
                        kind.what, version, sqlite_faults.detail_of(e))
            db.execute("PRAGMA temp_store = MEMORY")
            for statement in kind.read_older[version]:
                db.execute(statement)


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
        _rollback(db)
        raise


def _make(db: sqlite3.Connection, path: Path, kind: OwnFile) -> None:
    for pragma in kind.new_file_pragmas:  # no effect once another process made the tables
        db.execute(f"PRAGMA {pragma}")
    db.execute("BEGIN IMMEDIATE")
    try:
        # Another process may have made it while we waited for the lock.
        if db.execute("PRAGMA user_version").fetchone()[0] == 0:
            if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise fault(kind, "damaged",
                            f"{path}: not a kiosk {kind.what} (holds other tables)")
            for statement in kind.create:
                db.execute(statement)
        db.execute("COMMIT")
    except BaseException:
        _rollback(db)
        raise


def _rollback(db: sqlite3.Connection) -> None:
    try:
        if db.in_transaction:
            db.execute("ROLLBACK")
    except sqlite3.Error:
        pass  # the first error is the one to report
