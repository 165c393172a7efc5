"""What the server keeps: kiosks and their tokens, staff accounts, batches of counts,
heartbeats and catalogue titles. Runs on whichever thread calls it (FastAPI's worker threads,
the command line).

Counts are stored added up per (kiosk, day, hour, event, outcome, title), so the figures stay
quick however many batches arrived; an upload stores its batch as it came, and central/fold.py
adds it up into those totals off the request path (and before any figures are read). A batch
is accepted at most once: by its id (a resend is a duplicate) and by its seq range (another
batch id over rows already counted is refused).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from central import audit
from central.audit import AuditAction
from central.db import Conn, Database
from central.errors import AlreadyExists, BatchConflict, NotFound
from central.fold import Folder, encode, fold_all

ROLES = ("admin", "staff")


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Kiosk:
    id: str
    library: str
    service_point: str
    created_utc: str
    revoked_utc: str | None


@dataclass(frozen=True)
class User:
    name: str
    role: str
    library: str
    password_hash: str
    disabled_utc: str | None = None


@dataclass(frozen=True)
class CountRow:
    day: str
    hour: int
    event: str
    outcome: str
    key: str | None
    n: int


@dataclass(frozen=True)
class TitleInfo:
    id: str
    title: str
    author: str
    category: str
    valid_from: str | None = None   # the licence window (ISO days); None from older kiosks
    valid_until: str | None = None


@dataclass(frozen=True)
class FleetEntry:
    kiosk: Kiosk
    heartbeat_utc: str | None  # when the last heartbeat arrived, by the server's clock
    heartbeat: dict | None     # what it said
    last_batch_utc: str | None
    last_seq: int | None


class Storage:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.folder = Folder(db)

    @classmethod
    def open(cls, url: str) -> Storage:
        return cls(Database.open(url))

    def close(self) -> None:
        self.folder.stop()
        self.db.close()

    # Kiosks ------------------------------------------------------------------------------
    def add_kiosk(self, kiosk_id: str, library: str, service_point: str,
                  token_sha256: str, *, actor: str | None = None) -> Kiosk:
        """`actor`: who added it, for the audit log (None: not audited, as in tests)."""
        now = utc_now()
        with self.db.write() as conn:
            if conn.one("SELECT 1 FROM kiosks WHERE id = ?", (kiosk_id,)):
                raise AlreadyExists(f"a kiosk named {kiosk_id!r} exists already")
            conn.execute("INSERT INTO kiosks (id, library, service_point, token_sha256, "
                         "created_utc) VALUES (?, ?, ?, ?, ?)",
                         (kiosk_id, library, service_point, token_sha256, now))
            if actor is not None:
                audit.record(conn, actor, AuditAction.KIOSK_ADDED, kiosk_id,
                             detail={"library": library, "service_point": service_point})
        return Kiosk(kiosk_id, library, service_point, now, None)

    def kiosks(self, *, include_revoked: bool = True) -> list[Kiosk]:
        where = "" if include_revoked else " WHERE revoked_utc IS NULL"
        with self.db.read() as conn:
            rows = conn.all("SELECT id, library, service_point, created_utc, revoked_utc "
                            f"FROM kiosks{where} ORDER BY library, service_point, id")
        return [Kiosk(*row) for row in rows]

    def revoke_kiosk(self, kiosk_id: str, *, actor: str | None = None) -> None:
        with self.db.write() as conn:
            found = conn.one("SELECT revoked_utc FROM kiosks WHERE id = ?", (kiosk_id,))
            if found is None:
                raise NotFound(f"no kiosk named {kiosk_id!r}")
            if found[0] is None:
                conn.execute("UPDATE kiosks SET revoked_utc = ? WHERE id = ?",
                             (utc_now(), kiosk_id))
                if actor is not None:
                    audit.record(conn, actor, AuditAction.KIOSK_REVOKED, kiosk_id)

    def kiosk_for_token(self, token_sha256: str) -> Kiosk | None:
        """The kiosk holding this token, unless it was revoked."""
        with self.db.read() as conn:
            row = conn.one("SELECT id, library, service_point, created_utc, revoked_utc "
                           "FROM kiosks WHERE token_sha256 = ? AND revoked_utc IS NULL",
                           (token_sha256,))
        return Kiosk(*row) if row else None

    # Staff accounts ----------------------------------------------------------------------
    def add_user(self, name: str, role: str, library: str, password_hash: str, *,
                 actor: str | None = None) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        with self.db.write() as conn:
            if conn.one("SELECT 1 FROM users WHERE name = ?", (name,)):
                raise AlreadyExists(f"a user named {name!r} exists already")
            conn.execute("INSERT INTO users (name, role, library, password_hash, created_utc) "
                         "VALUES (?, ?, ?, ?, ?)", (name, role, library, password_hash,
                                                    utc_now()))
            if actor is not None:
                audit.record(conn, actor, AuditAction.USER_ADDED, name,
                             detail={"role": role, "library": library})

    def user(self, name: str) -> User | None:
        with self.db.read() as conn:
            row = conn.one("SELECT name, role, library, password_hash, disabled_utc "
                           "FROM users WHERE name = ?", (name,))
        return User(*row) if row else None

    # Uploads from kiosks -----------------------------------------------------------------
    def ingest(self, kiosk_id: str, batch_id: str, first_seq: int, last_seq: int,
               counts: Iterable[CountRow]) -> bool:
        """Adds a batch's counts once; returns True when the batch was here already.

        Raises BatchConflict for a batch id sent by another kiosk or with another range, and
        for a range overlapping a batch already accepted under another id.
        """
        rows = [[r.day, r.hour, r.event, r.outcome, r.key or "", r.n] for r in counts]
        text = encode(rows)  # added up into the totals later, off the request path
        with self.db.write() as conn:
            # Uploads of one kiosk take turns (SQLite's BEGIN IMMEDIATE already serialises all).
            if conn.postgres:
                conn.execute("SELECT id FROM kiosks WHERE id = ? FOR UPDATE", (kiosk_id,))
            known = conn.one("SELECT kiosk_id, first_seq, last_seq FROM batches "
                             "WHERE batch_id = ?", (batch_id,))
            if known is not None:
                if tuple(known) == (kiosk_id, first_seq, last_seq):
                    return True
                raise BatchConflict(f"batch {batch_id} was accepted before with other "
                                    "content or from another kiosk")
            _refuse_overlap(conn, kiosk_id, first_seq, last_seq)
            try:
                conn.execute("INSERT INTO batches (batch_id, kiosk_id, first_seq, last_seq, "
                             "row_count, received_utc) VALUES (?, ?, ?, ?, ?, ?)",
                             (batch_id, kiosk_id, first_seq, last_seq, len(rows), utc_now()))
            except Exception as e:
                if _unique_violation(e):  # the same id from another kiosk, at the same moment
                    raise BatchConflict(f"batch {batch_id} was accepted from another kiosk")
                raise
            conn.execute("INSERT INTO batch_counts (batch_id, folded, counts) VALUES (?, 0, ?)",
                         (batch_id, text))
        self.folder.batch_arrived()
        return False

    def fold(self) -> None:
        """Every accepted batch's counts into the totals: call before reading `counts`."""
        fold_all(self.db)

    def store_heartbeat(self, kiosk_id: str, body: dict) -> str:
        """Keeps the kiosk's latest heartbeat; returns the time it arrived."""
        now = utc_now()
        with self.db.write() as conn:
            conn.execute("INSERT INTO heartbeats (kiosk_id, received_utc, body) VALUES (?, ?, ?) "
                         "ON CONFLICT (kiosk_id) DO UPDATE SET received_utc = "
                         "excluded.received_utc, body = excluded.body",
                         (kiosk_id, now, json.dumps(body, ensure_ascii=False)))
        return now

    def store_titles(self, kiosk_id: str, version: str, titles: Iterable[TitleInfo]) -> int:
        """The titles of the catalogue a kiosk now shows: their names for its own library's
        figures (never another library's), and which of them this kiosk holds until when (its
        previous catalogue's list goes)."""
        titles = list(titles)
        now = utc_now()
        with self.db.write() as conn:
            found = conn.one("SELECT library FROM kiosks WHERE id = ?", (kiosk_id,))
            if found is None:
                raise NotFound(f"no kiosk named {kiosk_id!r}")
            conn.executemany(
                "INSERT INTO library_titles (library, id, title, author, category, version, "
                "updated_utc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (library, id) DO UPDATE "
                "SET title = excluded.title, author = excluded.author, category = "
                "excluded.category, version = excluded.version, updated_utc = "
                "excluded.updated_utc",
                [(found[0], t.id, t.title, t.author, t.category, version, now) for t in titles])
            conn.execute("DELETE FROM kiosk_titles WHERE kiosk_id = ?", (kiosk_id,))
            conn.executemany(
                "INSERT INTO kiosk_titles (kiosk_id, title_id, valid_from, valid_until) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (kiosk_id, title_id) DO NOTHING",
                [(kiosk_id, t.id, t.valid_from, t.valid_until) for t in titles])
        return len(titles)

    def fleet(self, kiosk_ids: Iterable[str]) -> list[FleetEntry]:
        wanted = set(kiosk_ids)
        with self.db.read() as conn:
            heartbeats = {k: (t, b) for k, t, b in conn.all(
                "SELECT kiosk_id, received_utc, body FROM heartbeats")}
            batches = {k: (t, s) for k, t, s in conn.all(
                "SELECT kiosk_id, MAX(received_utc), MAX(last_seq) FROM batches "
                "GROUP BY kiosk_id")}
        out = []
        for kiosk in self.kiosks(include_revoked=False):
            if kiosk.id not in wanted:
                continue
            beat_utc, body = heartbeats.get(kiosk.id, (None, None))
            batch_utc, last_seq = batches.get(kiosk.id, (None, None))
            out.append(FleetEntry(kiosk, beat_utc, json.loads(body) if body else None,
                                  batch_utc, last_seq))
        return out


def _refuse_overlap(conn: Conn, kiosk_id: str, first_seq: int, last_seq: int) -> None:
    # Accepted ranges never overlap, so if any overlaps the new one, the one starting last at
    # or before its end does: one index probe, however many batches the kiosk sent.
    row = conn.one("SELECT batch_id, first_seq, last_seq FROM batches WHERE kiosk_id = ? "
                   "AND first_seq <= ? ORDER BY first_seq DESC LIMIT 1", (kiosk_id, last_seq))
    if row is not None and row[2] >= first_seq:
        raise BatchConflict(f"rows {first_seq}..{last_seq} overlap rows {row[1]}..{row[2]} "
                            f"accepted in batch {row[0]}")


def _unique_violation(error: Exception) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return True
    return getattr(error, "sqlstate", None) == "23505"
