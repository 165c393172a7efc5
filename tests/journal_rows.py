"""A quick generator of large journals for the pruning tests and bench: rows at chosen times,
chained as the journal chains them, inserted in one transaction (600,000 rows in seconds).

The rows are made as if by a kiosk whose clock was set (clock_synced 1) unless told otherwise;
`Journal.append` on this machine would mark every row unsynchronised, which the prune never
trusts. Run as `python -m tests.journal_rows PATH ROWS` to make one from the command line.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk.journal import Journal, schema
from kiosk.journal.store import utc_text

KINDS = (("session", "ok"), ("checkout", "ok"), ("checkin", "ok"), ("ebook_view", "ok"),
         ("search", "abandoned"))
HASH = "ab" * 32


def add_rows(path: Path, rows: int, *, start: datetime, step: timedelta,
             sent_upto: int | None = None, synced: int | None = 1) -> int:
    """Append `rows` rows from `start`, `step` apart; returns the last seq. `sent_upto`
    (default: unchanged) marks rows as uploaded."""
    if not path.exists():
        Journal.open(path, path.with_name("patron.key")).close()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("BEGIN IMMEDIATE")
        last = db.execute("SELECT seq, chain FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        if last is None:
            last = db.execute("SELECT upto, chain FROM pruned WHERE id = 1").fetchone()
        seq, previous = last
        batch = []
        for n in range(rows):
            seq += 1
            kind, outcome = KINDS[seq % len(KINDS)]
            row = {"seq": seq, "time_utc": utc_text(start + n * step), "boot_id": "bench-boot",
                   "clock_synced": synced, "kind": kind, "outcome": outcome,
                   "item": f"3352000{seq:07d}", "title": "红楼梦", "patron_hash": HASH,
                   "detail": json.dumps({"seconds": seq % 300})}
            previous = schema.chain_value(previous, row)
            batch.append([row[name] for name in schema.FIELDS] + [previous])
            if len(batch) == 10_000:
                _insert(db, batch)
        _insert(db, batch)
        if sent_upto is not None:
            db.execute("UPDATE upload_state SET sent_upto = ? WHERE id = 1", (sent_upto,))
        db.execute("COMMIT")
    finally:
        db.close()
    return seq


def _insert(db: sqlite3.Connection, batch: list) -> None:
    db.executemany(f"INSERT INTO entries ({', '.join(schema.FIELDS)}, chain) "
                   f"VALUES ({', '.join('?' * len(schema.FIELDS))}, ?)", batch)
    batch.clear()


def days_ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


if __name__ == "__main__":
    count = int(sys.argv[2])
    add_rows(Path(sys.argv[1]), count, start=days_ago(800), step=timedelta(days=800) / count,
             sent_upto=count)
