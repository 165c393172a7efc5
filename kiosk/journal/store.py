"""The journal file: open or create it, append rows and intents durably, read them back, keep
upload progress, prune what the central server has had for long.

One `Journal` per thread (SQLite connections are not shared). The app appends from its main
thread; the uploader and `kiosk journal` open the same file from other processes, which WAL allows.
A row is on disk (fsynced, `synchronous=FULL`) when `append()` returns.

Every failure is a JournalError whose `cause` says why (full, read_only, replaced, damaged, io;
see `kiosk.sqlite_faults`). The writer remembers which file it opened (device and inode) and
checks, with a stat(), that the path still names it, no shorter than it was: a journal deleted,
moved, swapped or cut short under the running kiosk takes no more rows ("replaced"). Before a
row, that stat() is made when the kernel has told of anything happening to the file, its folders
or the mounts since the last one (`file_watch`), and on every `check()` and `probe()`.

The writer keeps the chain's head (the last row's seq and chain value) in memory instead of
reading it for every row. The INSERT itself asks whether it is still the file's: the row is
written only if its seq (the head's + 1) is free and the prune mark is not above the head. Rows
are removed only under the mark (a trigger refuses the rest) and no row is rewritten, so that is
exactly "nobody else has added a row since": the uploader's mark costs no reading. Otherwise,
after any failed append, and in a new process, the head is read from the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from common.marks import N_
from kiosk import private_files, sqlite_faults, system, wal_index
from kiosk.errors import JournalError, Said
from kiosk.journal import json_text, patron_key, prune, schema, verify
from kiosk.journal.file_watch import FileWatch
from kiosk.journal.prune import PruneResult
from kiosk.sizes import file_size
from kiosk.sqlite_files import OwnFile, failure, open_own

# Said to a technician by `kiosk journal ...` in their language.
NO_JOURNAL = N_("{path}: no journal here (the kiosk makes it on first start; is --config the "
                "kiosk's config?)")

BUSY_TIMEOUT_S = 5.0  # the uploader may hold the write lock for a moment
# default=str: a detail the core built badly is still recorded, never lost.
_DETAIL_JSON = json_text.encode_with(
    json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str))
_INSERT_ROW = (f"INSERT INTO entries ({', '.join(schema.FIELDS)}, chain) "
               f"VALUES ({', '.join('?' * len(schema.FIELDS))}, ?)")
# The same row, written only while the head kept in memory is still the file's last row (see
# the module's docstring), with no statement of its own to find out: not written (no change)
# when the row's seq is taken or the prune mark has passed the head. IGNORE also passes over a
# row a CHECK or NOT NULL refuses; `_INSERT_ROW`, run after the head is read, then says why.
_INSERT_ROW_ON_HEAD = (f"INSERT OR IGNORE INTO entries ({', '.join(schema.FIELDS)}, chain) "
                       f"SELECT {', '.join('?' * len(schema.FIELDS))}, ? "
                       "WHERE (SELECT upto FROM pruned WHERE id = 1) <= ?")


class IntentNotOpen(JournalError):
    """A row named an intent that is not open: the caller and the journal disagree."""


@dataclass(frozen=True)
class Row:
    seq: int
    time_utc: str
    boot_id: str
    clock_synced: bool | None
    kind: str
    outcome: str
    item: str | None
    title: str | None
    patron_hash: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class JournalStats:
    path: str
    rows: int
    first_seq: int | None
    last_seq: int | None
    first_time: str | None
    last_time: str | None
    unsent: int
    clock_unsynced: int  # rows written before NTP set the clock (or not knowing)
    boots: int
    size_bytes: int  # the file and its WAL
    counts: dict[tuple[str, str], int]  # (kind, outcome) -> rows
    file_bytes: int = 0
    wal_bytes: int = 0
    free_bytes: int | None = None  # left on the partition that holds the journal
    total_bytes: int | None = None
    pruned_upto: int = 0  # rows 1 to this were pruned (uploaded, older than pruned_keep_days)
    pruned_keep_days: int | None = None
    open_intents: int = 0


class Journal:
    def __init__(self, path: Path, db: sqlite3.Connection, key: bytes | None) -> None:
        self.path = path
        self._path_text = str(path)  # what os.stat() takes without a call to Path.__fspath__
        self._db = db
        self._key = key
        self._file: tuple[int, int] = (0, 0)  # (st_dev, st_ino) of the file opened
        self._size = 0  # its largest size seen: a shorter file was cut, unless it was vacuumed
        self._shrinks = 0  # pruned.shrinks when last looked: moves when space is given back
        # The last row's (seq, chain) as this writer left it; None: read it from the file.
        self._head: tuple[int, str] | None = None
        self._boot_id = system.boot_id()  # a process lives within one boot
        self._patron_hash = patron_key.PatronHasher(key) if key is not None else None
        self._watch: FileWatch | None = None  # a writer's: whether to stat before a row

    @classmethod
    def open(cls, path: str | Path, key_path: str | Path) -> Journal:
        """The journal for writing, created with its patron key on first use. Checks the file
        (`PRAGMA quick_check`) and that a write goes through (`probe()`) before it returns."""
        path = Path(path)
        db = open_own(path, _OWN_FILE, create=True)
        watch = None
        try:
            key = patron_key.load_or_create(Path(key_path))
            journal = cls(path, db, key)
            # Before the stat: what happens after it is seen.
            journal._watch = watch = FileWatch(path)
            journal._remember_file()
            journal.check(integrity=True)
            journal.probe()
        except BaseException:
            db.close()
            if watch is not None:
                watch.close()
            raise
        private_files.tighten_data_folder(path.parent)
        return journal

    @classmethod
    def open_existing(cls, path: str | Path) -> Journal:
        """An existing journal, to read, verify, mark uploads and prune; it cannot append rows."""
        path = Path(path)
        if not path.is_file():
            raise JournalError(Said(NO_JOURNAL, path=path))
        journal = cls(path, open_own(path, _OWN_FILE, create=False), None)
        try:
            journal._remember_file()
        except BaseException:
            journal.close()
            raise
        return journal

    def close(self) -> None:
        self._db.close()
        if self._watch is not None:
            self._watch.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- health ---------------------------------------------------------------------------

    def check(self, *, integrity: bool = False) -> None:
        """Raise JournalError (with its cause) unless the path is still the file opened, whole
        in length; with `integrity`, also SQLite's `quick_check` (reads every page: seconds on
        a large journal, so only at open and when asked). One stat() otherwise: cheap enough
        to call every few seconds."""
        self._same_file()
        if integrity:
            found = [line for (line,) in self._fetch_all("PRAGMA quick_check")]
            if found != ["ok"]:
                raise self._fault("damaged", "check the journal",
                                  f"SQLite's quick check: {found[0]}")

    def probe(self) -> None:
        """A real, committed and synced write that adds no row (the `probe` table), to learn
        whether writing works (again); raises JournalError with the cause when it does not.
        Also allocates the WAL index in full, which a full disk may have left undone."""
        self._same_file()
        if self._one("PRAGMA user_version") < schema.VERSION:  # read as it was: not upgraded
            raise self._fault(sqlite_faults.cause_from_disk(self.path), "write to the journal",
                              "it could not be upgraded to this kiosk's version")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("UPDATE probe SET n = n + 1, time_utc = ? WHERE id = 1",
                             (utc_now(),))
            self._db.execute("COMMIT")
            wal_index.allocate(self.path)
        except (sqlite3.Error, OSError) as e:
            self._rollback()
            raise failure(_OWN_FILE, self.path, e, "write to the journal") from e

    def _remember_file(self) -> None:
        try:
            st = os.stat(self.path)
        except OSError as e:
            raise failure(_OWN_FILE, self.path, e, "open the journal") from e
        self._file, self._size = (st.st_dev, st.st_ino), st.st_size
        self._shrinks = self._one("SELECT shrinks FROM pruned WHERE id = 1")

    def _same_file(self) -> None:
        """The path still names the file opened, no shorter than it was (unless the prune gave
        space back, which it records first); else "replaced", and nothing is written."""
        try:
            st = os.stat(self._path_text)
        except FileNotFoundError:
            raise self._fault("replaced", "use the journal", "the file is gone") from None
        except OSError as e:
            raise failure(_OWN_FILE, self.path, e, "use the journal") from e
        if st.st_ino != self._file[1] or st.st_dev != self._file[0]:
            raise self._fault("replaced", "use the journal", "another file is in its place")
        if st.st_size < self._size:
            try:
                shrinks = self._db.execute("SELECT shrinks FROM pruned WHERE id = 1").fetchone()[0]
            except sqlite3.Error:
                shrinks = self._shrinks
            # Odd: a prune is giving space back now; moved: it did since we last looked.
            if shrinks == self._shrinks and shrinks % 2 == 0:
                raise self._fault("replaced", "use the journal",
                                  f"it is {st.st_size} bytes long, it was {self._size}")
            self._shrinks = shrinks
        self._size = st.st_size

    def _fault(self, cause: str, doing: str, detail: str) -> JournalError:
        return JournalError(f"{self.path}: cannot {doing}: "
                            + sqlite_faults.describe(cause, self.path, "journal", detail),
                            cause=cause)

    # --- rows -----------------------------------------------------------------------------

    def open_intent(self, operation: str, *, item: str, patron: str | None,
                    title: str | None = None, detail: dict[str, Any] | None = None) -> int:
        """Journal that `operation` (checkout, checkin, renew) is about to be asked of the ILS,
        before the call; returns the intent's seq, open until a row settles it (`append(...,
        intent=seq)`). Intents a crash left open are in `open_intents()` at the next start."""
        if operation not in schema.OPERATIONS:
            raise ValueError(f"not an ILS operation: {operation!r}")
        return self._insert(schema.INTENT, operation, item=item, title=title, patron=patron,
                            detail=detail, opens=True)

    def append(self, kind: str, outcome: str, *, item: str | None = None,
               title: str | None = None, patron: str | None = None,
               detail: dict[str, Any] | None = None, intent: int | None = None,
               settles: bool = True) -> int:
        """Write one row and return its sequence number once it is safely on disk.

        With `intent`, the row names that open intent (detail "intent") and, when `settles`,
        closes it in the same transaction; `settles=False` is for a row that says the outcome
        is not known yet, which leaves the intent open for reconciliation. An intent that is
        not open is refused (IntentNotOpen), and nothing is written."""
        if intent is not None:
            detail = {**(detail or {}), "intent": intent}
        return self._insert(kind, outcome, item=item, title=title, patron=patron, detail=detail,
                            settles=settles, names=intent)

    def open_intents(self) -> list[Row]:
        """The intent rows still open, oldest first."""
        return [_row(values) for values in self._fetch_all(
            f"SELECT {', '.join('e.' + name for name in schema.FIELDS)} FROM open_intents o "
            "JOIN entries e ON e.seq = o.seq ORDER BY o.seq")]

    def _insert(self, kind: str, outcome: str, *, item: str | None, title: str | None,
                patron: str | None, detail: dict[str, Any] | None, opens: bool = False,
                settles: bool = False, names: int | None = None) -> int:
        if self._patron_hash is None:
            raise JournalError(f"{self.path}: opened for reading; cannot append")
        synced = system.clock_synchronised()
        # In schema.FIELDS order; seq (first) once the head is known.
        values: list[Any] = [
            0, utc_now(), self._boot_id, None if synced is None else int(synced), kind, outcome,
            item, title, self._patron_hash(patron) if patron else None,
            _DETAIL_JSON(detail) if detail is not None else None,
        ]
        watch = self._watch
        if watch is None:
            self._same_file()
        elif watch.changed():
            watch.renew()  # before the look: what happens after it is seen next time
            try:
                self._same_file()
            except BaseException:
                watch.look_again()  # refused now, so every row after it until it is the file
                raise
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            # The intent named must be open; settling it, the DELETE of its mark says whether
            # it was (rolled back with the rest if the row then fails).
            if names is not None and not (
                    db.execute("DELETE FROM open_intents WHERE seq = ?", (names,)).rowcount
                    if settles else
                    db.execute("SELECT 1 FROM open_intents WHERE seq = ?", (names,)).fetchone()):
                raise IntentNotOpen(f"{self.path}: intent {names} is not open (settled already, "
                                    f"or never opened); {kind} {outcome} not written",
                                    cause="damaged")
            # Unknown until the commit is known to have gone through: any failure from here
            # on (a failed commit may leave the row in the WAL for the next open to find, and
            # an exception of any kind may come) has the head read from the file again.
            head, self._head = self._head, None
            written = 0
            if head is not None:
                seq = values[0] = head[0] + 1
                chain = schema.chain_of(head[1], values)
                written = db.execute(_INSERT_ROW_ON_HEAD, (*values, chain, head[0])).rowcount
            if not written:
                last_seq, previous = self._last()
                seq = values[0] = last_seq + 1
                chain = schema.chain_of(previous, values)
                db.execute(_INSERT_ROW, (*values, chain))
            if opens:
                db.execute("INSERT INTO open_intents (seq) VALUES (?)", (seq,))
            db.execute("COMMIT")
        except JournalError:
            self._rollback()
            raise
        except sqlite3.Error as e:
            self._rollback()
            raise failure(_OWN_FILE, self.path, e, f"write {kind} {outcome}") from e
        # Committed: this row is the head (the next INSERT finds whether it still is).
        self._head = (seq, chain)
        return seq

    def _last(self) -> tuple[int, str]:
        """The last row's seq and chain value; the prune mark's when every row was pruned."""
        last = self._db.execute(
            "SELECT seq, chain FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        if last is None:
            last = self._db.execute("SELECT upto, chain FROM pruned WHERE id = 1").fetchone()
        return last[0], last[1]

    def _rollback(self) -> None:
        try:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the connection itself is broken; the caller reports the first error

    def rows(self, *, after_seq: int = 0, since_utc: str | None = None,
             until_utc: str | None = None) -> Iterator[Row]:
        """Rows in order, streamed; times are compared as ISO strings (`2026-11-24T00:00:00Z`)."""
        sql = f"SELECT {', '.join(schema.FIELDS)} FROM entries WHERE seq > ?"
        params: list[Any] = [after_seq]
        if since_utc:
            sql += " AND time_utc >= ?"
            params.append(since_utc)
        if until_utc:
            sql += " AND time_utc < ?"
            params.append(until_utc)
        cursor = self._read(sql + " ORDER BY seq", params)
        while True:
            try:
                values = cursor.fetchone()
            except sqlite3.Error as e:  # a page read as the rows stream
                raise failure(_OWN_FILE, self.path, e, "read the journal") from e
            if values is None:
                return
            yield _row(values)

    def sent_upto(self) -> int:
        return self._one("SELECT sent_upto FROM upload_state WHERE id = 1")

    def unsent_count(self) -> int:
        return self._one("SELECT count(*) FROM entries "
                         "WHERE seq > (SELECT sent_upto FROM upload_state WHERE id = 1)")

    def mark_sent(self, last_seq: int) -> None:
        """Record that every row up to `last_seq` is counted by the server; never goes back."""
        last = self._one("SELECT max(coalesce((SELECT max(seq) FROM entries), 0), "
                         "(SELECT upto FROM pruned WHERE id = 1))")
        if last_seq > last:
            raise JournalError(f"{self.path}: cannot mark row {last_seq} sent; the last is {last}")
        try:
            self._db.execute("UPDATE upload_state SET sent_upto = max(sent_upto, ?) WHERE id = 1",
                             (last_seq,))
        except sqlite3.Error as e:
            raise failure(_OWN_FILE, self.path, e, "record upload progress") from e

    def stats(self) -> JournalStats:
        count, first, last, unsynced, boots = self._fetch_all(
            "SELECT count(*), min(seq), max(seq), sum(clock_synced IS NOT 1), "
            "count(DISTINCT boot_id) FROM entries")[0]
        counts = {(kind, outcome): n for kind, outcome, n in self._fetch_all(
            "SELECT kind, outcome, count(*) FROM entries GROUP BY kind, outcome "
            "ORDER BY kind, outcome")}
        times = dict(self._fetch_all("SELECT seq, time_utc FROM entries WHERE seq IN (?, ?)",
                                     (first or 0, last or 0)))
        pruned_upto, keep_days = self._fetch_all(
            "SELECT upto, keep_days FROM pruned WHERE id = 1")[0]
        file_bytes, wal_bytes = file_size(self.path), file_size(wal_index.wal_path(self.path))
        disk = system.disk_free(self.path.parent)
        return JournalStats(path=str(self.path), rows=count, first_seq=first, last_seq=last,
                            first_time=times.get(first), last_time=times.get(last),
                            unsent=self.unsent_count(), clock_unsynced=unsynced or 0,
                            boots=boots, size_bytes=file_bytes + wal_bytes, counts=counts,
                            file_bytes=file_bytes, wal_bytes=wal_bytes,
                            free_bytes=disk[0] if disk else None,
                            total_bytes=disk[1] if disk else None,
                            pruned_upto=pruned_upto, pruned_keep_days=keep_days,
                            open_intents=self._one("SELECT count(*) FROM open_intents"))

    def prune(self, keep_days: int, *, now: datetime | None = None) -> PruneResult:
        """Remove the rows already uploaded, older than `keep_days` days and before every open
        intent, then give their space back where that is cheap (see `kiosk.journal.prune`).
        `keep_days` 0 keeps every row."""
        if keep_days <= 0:
            upto = self._one("SELECT upto FROM pruned WHERE id = 1")
            return PruneResult(0, upto, keep_days, 0, "keeping every row")
        cutoff = utc_text((now or datetime.now(timezone.utc)) - timedelta(days=keep_days))
        self._head = None  # a prune leaves the head where it was; read it again all the same
        try:
            return prune.prune(self._db, self.path, cutoff, keep_days,
                               wal_index.free_bytes(self.path.parent))
        except sqlite3.Error as e:
            self._rollback()
            raise failure(_OWN_FILE, self.path, e, "prune old rows") from e

    def counts_by_item(self, kind: str, outcome: str = "ok") -> dict[str, int]:
        """How many rows of `kind` each item has: "most popular here" for e-books."""
        return dict(self._fetch_all("SELECT item, count(*) FROM entries WHERE kind = ? AND "
                                    "outcome = ? AND item IS NOT NULL GROUP BY item",
                                    (kind, outcome)))

    def verify(self) -> list[str]:
        """Every problem found in the file; empty when it is sound."""
        return verify.problems_in(self._db)

    def _read(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as e:
            raise failure(_OWN_FILE, self.path, e, "read the journal") from e

    def _fetch_all(self, sql: str, params: Any = ()) -> list:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise failure(_OWN_FILE, self.path, e, "read the journal") from e

    def _one(self, sql: str) -> int:
        return self._fetch_all(sql)[0][0]


def utc_now() -> str:
    """`utc_text` of now. The journal asks on every row: the text of the whole second is made
    once a second, and the milliseconds are looked up (the same text: both truncate to the
    millisecond)."""
    global _second
    millis = time.time_ns() // 1_000_000
    seconds = millis // 1000
    if _second[0] != seconds:
        _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return _second[1] + _MILLIS[millis - seconds * 1000]


_second: tuple[int, str] = (-1, "")  # a whole second and its text, shared by every thread
_MILLIS = tuple(f".{n:03d}Z" for n in range(1000))  # formatting a number costs more, cold


def utc_text(moment: datetime) -> str:
    """A moment as the journal stores it: `2026-11-24T06:00:00.000Z`, which sorts as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """`utc_text` back into an aware moment (also the uploader's own `...Z` times)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _row(values: tuple) -> Row:
    named = dict(zip(schema.FIELDS, values))
    synced = named["clock_synced"]
    named["clock_synced"] = None if synced is None else bool(synced)
    try:
        named["detail"] = json.loads(named["detail"]) if named["detail"] else None
    except (TypeError, ValueError):  # changed outside the journal; `verify` reports the row
        named["detail"] = {"unreadable": str(named["detail"])[:200]}
    return Row(**named)


_OWN_FILE = OwnFile(
    what="journal", version=schema.VERSION, create=schema.CREATE, error=JournalError,
    unreadable_advice="move it aside and keep it for inspection: the kiosk then starts a new one",
    busy_timeout_s=BUSY_TIMEOUT_S, upgrades=schema.UPGRADES,
    read_older=schema.READ_OLDER, new_file_pragmas=schema.NEW_FILE_PRAGMAS)
