"""Connections to the server's database, SQLite or PostgreSQL, and its schema.

Plain DB-API instead of an ORM: the server has a dozen statements, and both engines speak the
same SQL for all of them (`ON CONFLICT ... DO UPDATE`, text days compared as strings), so the
two dialects differ only in what this module hides: the placeholder, how a write transaction
takes its lock, and how a connection is opened. Statements are written with `?`.

Any thread may use a `Database`; each `read()`/`write()` borrows a connection from a small
pool of idle ones for the length of one transaction.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from central.errors import DatabaseBusy, StorageError

log = logging.getLogger(__name__)

SCHEMA_VERSION = "3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kiosks (
  id TEXT PRIMARY KEY, library TEXT NOT NULL, service_point TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE, created_utc TEXT NOT NULL, revoked_utc TEXT);
CREATE TABLE IF NOT EXISTS batches (
  batch_id TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
  first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, row_count INTEGER NOT NULL,
  received_utc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS batches_by_range ON batches (kiosk_id, first_seq);
CREATE TABLE IF NOT EXISTS counts (
  kiosk_id TEXT NOT NULL REFERENCES kiosks (id), day TEXT NOT NULL, hour INTEGER NOT NULL,
  event TEXT NOT NULL, outcome TEXT NOT NULL, title_key TEXT NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (kiosk_id, day, hour, event, outcome, title_key));
CREATE INDEX IF NOT EXISTS counts_by_day ON counts (day, event);
CREATE TABLE IF NOT EXISTS heartbeats (
  kiosk_id TEXT PRIMARY KEY REFERENCES kiosks (id), received_utc TEXT NOT NULL,
  body TEXT NOT NULL);
-- Each library's names of its titles, from its own kiosks' catalogues (issue 18): one
-- library's catalogue cannot rename another's books. Schema 2 had one table for all.
CREATE TABLE IF NOT EXISTS library_titles (
  library TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, author TEXT NOT NULL,
  category TEXT NOT NULL, version TEXT NOT NULL, updated_utc TEXT NOT NULL,
  PRIMARY KEY (library, id));
-- Which titles each kiosk's current catalogue holds, with their licence window (issue 17;
-- NULL from kiosks older than that): replaced whole with each catalogue the kiosk sends.
CREATE TABLE IF NOT EXISTS kiosk_titles (
  kiosk_id TEXT NOT NULL REFERENCES kiosks (id), title_id TEXT NOT NULL,
  valid_from TEXT, valid_until TEXT, PRIMARY KEY (kiosk_id, title_id));
CREATE INDEX IF NOT EXISTS kiosk_titles_by_end ON kiosk_titles (valid_until);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, library TEXT NOT NULL,
  password_hash TEXT NOT NULL, created_utc TEXT NOT NULL, disabled_utc TEXT);
CREATE TABLE IF NOT EXISTS releases (
  id BIGINT PRIMARY KEY, kind TEXT NOT NULL, version TEXT NOT NULL, size BIGINT NOT NULL,
  sha256 TEXT NOT NULL, file TEXT NOT NULL, all_libraries INTEGER NOT NULL,
  published_at TEXT NOT NULL, published_by TEXT NOT NULL, withdrawn_at TEXT,
  titles INTEGER);
CREATE INDEX IF NOT EXISTS releases_by_kind ON releases (kind, id);
CREATE TABLE IF NOT EXISTS release_libraries (
  release_id BIGINT NOT NULL REFERENCES releases (id), library TEXT NOT NULL,
  PRIMARY KEY (release_id, library));
-- Who did what on the server (central/audit.py, issue 18).
CREATE TABLE IF NOT EXISTS audit_log (
  at_utc TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, subject TEXT NOT NULL,
  address TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_by_time ON audit_log (at_utc);
-- Staff sessions (central/sessions.py): the cookie's token is kept only as its SHA-256, and
-- user_name is NULL before sign-in.
CREATE TABLE IF NOT EXISTS sessions (
  token_sha256 TEXT PRIMARY KEY, user_name TEXT, data TEXT NOT NULL,
  created_utc TEXT NOT NULL, seen_utc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_name);
CREATE INDEX IF NOT EXISTS sessions_by_seen ON sessions (seen_utc);
-- Refused sign-ins per account name and per address, and the refusals they earned
-- (central/signin_throttle.py).
CREATE TABLE IF NOT EXISTS signin_failures (
  scope TEXT NOT NULL, name TEXT NOT NULL, at_utc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS signin_failures_by_name ON signin_failures (scope, name);
CREATE TABLE IF NOT EXISTS signin_blocks (
  scope TEXT NOT NULL, name TEXT NOT NULL, until_utc TEXT NOT NULL,
  PRIMARY KEY (scope, name));
-- Each batch's counts as the kiosk sent them (a JSON list), written by the upload and added
-- into counts afterwards, off the request path (central/fold.py), and kept so that `kiosk-central
-- counts remove` can take exactly one batch out again (issue 18). folded is 0 while the counts
-- wait to be added (or until a removal took them off the list). Batches accepted before
-- issue 18 have no row here and cannot be removed.
CREATE TABLE IF NOT EXISTS batch_counts (
  batch_id TEXT PRIMARY KEY REFERENCES batches (batch_id), folded INTEGER NOT NULL,
  counts TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS batch_counts_waiting ON batch_counts (batch_id) WHERE folded = 0;
-- Batches whose counts were taken out of the totals. The batch stays in batches: its seq
-- range stays known, so a resend is answered "duplicate" and the rows are not counted again.
CREATE TABLE IF NOT EXISTS removed_batches (
  batch_id TEXT PRIMARY KEY REFERENCES batches (batch_id), removed_utc TEXT NOT NULL,
  removed_by TEXT NOT NULL);
"""
# What brings a database of an older schema to the next one, keyed by the older schema.
# SCHEMA above is the newest; a new database gets it whole and needs none of these.
MIGRATIONS = {
    "1": ("ALTER TABLE releases ADD COLUMN titles INTEGER",),  # e-book batches (issue 17)
    # Issue 18. New tables need no step here: SCHEMA makes them, before these run.
    "2": (
        # The one set of names of schema 2 becomes every library's (revoked kiosks' too, for
        # their counts): which library sent which name was never kept. The CREATE is for a
        # database made without it (a test's partial one), so the copy and the DROP can run.
        "CREATE TABLE IF NOT EXISTS titles (id TEXT PRIMARY KEY, title TEXT NOT NULL, "
        "author TEXT NOT NULL, category TEXT NOT NULL, version TEXT NOT NULL, "
        "updated_utc TEXT NOT NULL)",
        "INSERT INTO library_titles (library, id, title, author, category, version, "
        "updated_utc) SELECT k.library, t.id, t.title, t.author, t.category, t.version, "
        "t.updated_utc FROM titles t CROSS JOIN (SELECT DISTINCT library FROM kiosks) k",
        "DROP TABLE titles",
        "ALTER TABLE users ADD COLUMN disabled_utc TEXT",  # accounts disabled
    ),
}
_POOL_SIZE = 8
_ADD_COLUMN = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+)", re.IGNORECASE)
# How long a write waits for SQLite's one writer (this process's other threads, then another
# process such as kiosk-central) before it gives up with DatabaseBusy.
BUSY_TIMEOUT_S = 30.0
# Values bound in one SQLite statement: under its 32,766.
MAX_PARAMS = 32_000


class Conn:
    """One connection inside one transaction; `?` placeholders on both engines."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self.raw = raw
        self.postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(self._sql(sql), tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.postgres:
            with self.raw.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        else:
            self.raw.executemany(sql, rows)

    def insert_rows(self, insert: str, rows: Sequence[Sequence[Any]], tail: str = "", *,
                    types: Sequence[str]) -> None:
        """`insert` ("INSERT INTO t (a, b)") of many rows, then `tail` (an ON CONFLICT
        clause); `types` are the columns' SQL types. SQLite gets one multi-row VALUES per
        MAX_PARAMS values, PostgreSQL one array per column through unnest (a statement with
        thousands of parameters costs it more to plan than to run). Either way one statement,
        not one per row: the driver lets go of the GIL once per statement, and under load each
        time it wants it back it may wait a switch interval for the event loop's thread."""
        if not rows:
            return
        if self.postgres:
            arrays = ", ".join(f"?::{t}[]" for t in types)
            self.execute(f"{insert} SELECT * FROM unnest({arrays}){tail}",
                         [list(column) for column in zip(*rows)])
            return
        one = "(" + ", ".join("?" * len(types)) + ")"
        per = max(1, MAX_PARAMS // len(types))
        for start in range(0, len(rows), per):
            chunk = rows[start:start + per]
            self.execute(f"{insert} VALUES {', '.join([one] * len(chunk))}{tail}",
                         [value for row in chunk for value in row])

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        return self.execute(sql, params).fetchone()

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the one row a query always gives (an aggregate, a count)."""
        row = self.one(sql, params)
        if row is None:
            raise StorageError(f"no row from {sql!r}")
        return row[0]

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.execute(sql, params).fetchall())


@dataclass(frozen=True)
class Database:
    url: str
    postgres: bool
    _idle: queue.LifoQueue
    # SQLite has one writer: this process's writers queue here, not in SQLite's busy handler
    # (which polls with sleeps, so under load a writer can miss its turn for seconds).
    _writer: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, url: str) -> Database:
        """Connects once to check the URL, and creates the schema if the database is new."""
        if url.startswith(("postgresql://", "postgres://")):
            postgres = True
        elif url.startswith("sqlite:///"):
            postgres = False
        else:
            raise StorageError(f"database URL {url!r}: use sqlite:///path or postgresql://...")
        db = cls(url, postgres, queue.LifoQueue(maxsize=_POOL_SIZE))
        db._create_schema()
        return db

    @property
    def sqlite_path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))

    def _connect(self) -> Any:
        if self.postgres:
            import psycopg  # only a PostgreSQL server needs it
            try:
                return psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.Error as e:
                raise StorageError(f"cannot connect to PostgreSQL: {e}".strip()) from None
        path = self.sqlite_path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _owner_only(path)
            raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                  timeout=BUSY_TIMEOUT_S)  # SQLite's busy_timeout
            raw.execute("PRAGMA journal_mode=WAL")
            # An answered upload must survive a power cut: the kiosk forgets the batch after 200.
            raw.execute("PRAGMA synchronous=FULL")
            raw.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as e:
            raise StorageError(f"cannot open the SQLite database {path}: {e}") from None
        return raw

    @contextmanager
    def _borrow(self) -> Iterator[Any]:
        try:
            raw = self._idle.get_nowait()
        except queue.Empty:
            raw = self._connect()
        healthy = True
        try:
            yield raw
        except BaseException:
            healthy = not (self.postgres and (raw.closed or raw.broken))
            raise
        finally:
            try:
                self._idle.put_nowait(raw) if healthy else raw.close()
            except queue.Full:
                raw.close()

    @contextmanager
    def write(self) -> Iterator[Conn]:
        """A transaction that writes; on SQLite it holds the write lock from its first line.
        Raises DatabaseBusy when SQLite's writer is not free within BUSY_TIMEOUT_S."""
        with self._one_writer(), self._borrow() as raw:
            conn = Conn(raw, self.postgres)
            try:
                conn.execute("BEGIN" if self.postgres else "BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:  # another process kept the lock too long
                raise DatabaseBusy(f"the database is busy: {e}") from None
            try:
                yield conn
            except BaseException:
                _rollback(raw)
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _one_writer(self) -> Iterator[None]:
        if self.postgres:  # row locks: writers of different kiosks go side by side
            yield
            return
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_S):
            raise DatabaseBusy(f"the database is busy: no write turn in {BUSY_TIMEOUT_S:.0f} s")
        try:
            yield
        finally:
            self._writer.release()

    @contextmanager
    def read(self) -> Iterator[Conn]:
        """A read-only transaction: every query in it sees the same snapshot."""
        with self._borrow() as raw:
            conn = Conn(raw, self.postgres)
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if self.postgres
                         else "BEGIN")
            try:
                yield conn
            finally:
                _rollback(raw)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def _create_schema(self) -> None:
        with self.write() as conn:
            for statement in filter(str.strip, SCHEMA.split(";")):
                conn.execute(statement)
            conn.execute("INSERT INTO meta (name, value) VALUES ('schema', ?) "
                         "ON CONFLICT (name) DO NOTHING", (SCHEMA_VERSION,))
            # FOR UPDATE: two servers starting at once migrate one after the other.
            found = conn.value("SELECT value FROM meta WHERE name = 'schema'"
                               + (" FOR UPDATE" if self.postgres else ""))
            while found in MIGRATIONS:
                log.info("migrating the database from schema %s", found)
                for statement in MIGRATIONS[found]:
                    added = _ADD_COLUMN.match(statement)
                    if added and _has_column(conn, *added.groups()):
                        continue  # SCHEMA made the table just now, with the column
                    conn.execute(statement)
                found = str(int(found) + 1)
                conn.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (found,))
        if found != SCHEMA_VERSION:
            raise StorageError(f"the database has schema {found}; this server knows "
                               f"{SCHEMA_VERSION}")


def _has_column(conn: Conn, table: str, column: str) -> bool:
    if conn.postgres:
        return conn.one("SELECT 1 FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = ? AND column_name = ?",
                        (table, column)) is not None
    return conn.one("SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
                    (table, column)) is not None


def _owner_only(path: Path) -> None:
    """The database holds password hashes and session digests: mode 0600 for it and its -wal
    and -shm (SQLite gives those the main file's mode; older files are tightened here)."""
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            os.chmod(part, 0o600)
        except (FileNotFoundError, PermissionError):  # gone, or another user's to keep
            pass


def _rollback(raw: Any) -> None:
    try:
        raw.execute("ROLLBACK")
    except Exception:  # the connection is gone; the pool drops it
        log.debug("rollback failed", exc_info=True)
