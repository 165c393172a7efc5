"""Folding: adding accepted batches' counts into the totals the figures read (`counts`).

An upload's transaction stores the batch's counts as they came (one row of batch_counts, its
`counts` a JSON list) and answers; adding them to the totals, 3,000 upserts for a catch-up
batch, happens here, off the request path: on a thread of its own once uploads pause (or when
the oldest waiting batch has waited MAX_LAG_S), several batches to a transaction, and always
before figures are read (`fold_all`, called by the figures and reports). A batch is folded in
the same transaction that marks it folded, so none is counted twice or left out, whatever
stops when. Runs on the folding thread, a request's worker thread or the command line.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter

from central.db import Conn, Database

log = logging.getLogger(__name__)
PER_TRANSACTION = 8  # batches: SQLite's one writer is free again after a fraction of a second
IDLE_S = 0.5         # fold once no batch has arrived for this long
MAX_LAG_S = 30.0     # ... or once the oldest waiting batch has waited this long
Key = tuple[str, str, int, str, str, str]  # kiosk, day, hour, event, outcome, title key
COLUMN_TYPES = ("text", "text", "integer", "text", "text", "text", "bigint")  # Key, then n


def encode(rows: list[list]) -> str:
    """A batch's counts as batch_counts keeps them: [day, hour, event, outcome, key, n]."""
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def summed(kiosk_id: str, text: str, into: Counter[Key] | None = None) -> Counter[Key]:
    into = Counter() if into is None else into
    for day, hour, event, outcome, key, n in json.loads(text):
        into[(kiosk_id, day, hour, event, outcome, key)] += n
    return into


def add_to_totals(conn: Conn, counts: Counter[Key], sign: int = 1) -> None:
    """Adds (or with sign -1 subtracts) counts to the totals in one statement."""
    conn.insert_rows(
        "INSERT INTO counts (kiosk_id, day, hour, event, outcome, title_key, n)",
        [(*key, sign * n) for key, n in sorted(counts.items())],
        " ON CONFLICT (kiosk_id, day, hour, event, outcome, title_key) DO UPDATE "
        "SET n = counts.n + excluded.n", types=COLUMN_TYPES)
    if sign < 0:
        conn.execute("DELETE FROM counts WHERE n <= 0 AND kiosk_id IN "
                     f"({', '.join('?' * len({k[0] for k in counts}))})",
                     sorted({k[0] for k in counts}))


def fold(db: Database, limit: int = PER_TRANSACTION) -> int:
    """Folds up to `limit` waiting batches in one transaction; returns how many (on
    PostgreSQL, 0 may also mean that another fold had them and finished first)."""
    with db.write() as conn:
        waiting = conn.all(
            "SELECT c.batch_id, b.kiosk_id, c.counts FROM batch_counts c "
            "JOIN batches b ON b.batch_id = c.batch_id WHERE c.folded = 0 "
            "ORDER BY c.batch_id LIMIT ?"
            # Another fold at the same time waits for this one, then skips what it folded.
            + (" FOR UPDATE OF c" if conn.postgres else ""), (limit,))
        if not waiting:
            return 0
        counts: Counter[Key] = Counter()
        for _batch_id, kiosk_id, text in waiting:
            summed(kiosk_id, text, counts)
        add_to_totals(conn, counts)
        conn.executemany("UPDATE batch_counts SET folded = 1 WHERE batch_id = ?",
                         [(batch_id,) for batch_id, _kiosk, _text in waiting])
    return len(waiting)


def any_waiting(db: Database) -> bool:
    """Whether a batch waits to be folded; a read, so it does not queue for SQLite's writer."""
    with db.read() as conn:
        return conn.one("SELECT 1 FROM batch_counts WHERE folded = 0 LIMIT 1") is not None


def fold_all(db: Database) -> int:
    """Every waiting batch into the totals: what comes before figures are read."""
    done = 0
    while any_waiting(db):
        done += fold(db, limit=64)
    return done


class Folder:
    """The folding thread of one server: started by the first batch after a quiet time, it
    ends when nothing is left to fold."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._arrivals = 0
        self._last_batch = 0.0
        self._waiting_since: float | None = None  # when the oldest batch not folded came
        self._stopped = threading.Event()

    def stop(self) -> None:
        """No more folding by this thread (the database is being closed); what waits is
        folded by the next server, or before figures are read."""
        self._stopped.set()

    def batch_arrived(self) -> None:
        with self._guard:
            now = time.monotonic()
            self._arrivals += 1
            self._last_batch = now
            if self._waiting_since is None:
                self._waiting_since = now
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(target=self._run, name="fold", daemon=True)
                self._thread.start()

    def _due(self) -> float:
        """Seconds until the next fold may start (0: now)."""
        with self._guard:
            now = time.monotonic()
            lag = MAX_LAG_S - (now - (self._waiting_since or now))
            return max(0.0, min(IDLE_S - (now - self._last_batch), lag))

    def _run(self) -> None:
        try:
            while not self._stopped.is_set():
                if (wait := self._due()) > 0:
                    self._stopped.wait(wait)
                    continue
                with self._guard:
                    seen = self._arrivals
                folded = fold(self.db)
                done = folded == 0 and not any_waiting(self.db)
                with self._guard:
                    if folded < PER_TRANSACTION and seen == self._arrivals:  # caught up
                        self._waiting_since = None
                        if done:
                            self._thread = None
                            return
        except Exception:  # the figures fold what is left before they are read
            log.exception("folding counts into the totals failed")
        with self._guard:
            self._thread = None
