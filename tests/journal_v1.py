"""A version-1 journal, as every kiosk in the field has one: the tables and rows that release
wrote, made here without the kiosk's code so that the upgrade is tested against the real thing.

Run as `python -m tests.journal_v1 PATH ROWS` to make one from another process.
"""

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

GENESIS = "0" * 64
FIELDS = ("seq", "time_utc", "boot_id", "clock_synced", "kind", "outcome", "item", "title",
          "patron_hash", "detail")
CREATE_V1 = (
    """CREATE TABLE entries (
        seq          INTEGER PRIMARY KEY,
        time_utc     TEXT    NOT NULL,
        boot_id      TEXT    NOT NULL,
        clock_synced INTEGER CHECK (clock_synced IN (0, 1)),
        kind         TEXT    NOT NULL CHECK (kind <> ''),
        outcome      TEXT    NOT NULL CHECK (outcome <> ''),
        item         TEXT,
        title        TEXT,
        patron_hash  TEXT,
        detail       TEXT,
        chain        TEXT    NOT NULL
    )""",
    """CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
       BEGIN SELECT RAISE(ABORT, 'journal rows are append-only'); END""",
    """CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
       BEGIN SELECT RAISE(ABORT, 'journal rows are append-only'); END""",
    "CREATE INDEX entries_time ON entries (time_utc)",
    """CREATE TABLE upload_state (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        sent_upto INTEGER NOT NULL DEFAULT 0
    )""",
    "INSERT INTO upload_state (id, sent_upto) VALUES (1, 0)",
    "PRAGMA user_version = 1",
)


def make_v1(path: Path, rows: int, *, sent_upto: int = 0, extra: tuple[str, ...] = ()) -> None:
    """A version-1 journal at `path` with `rows` chained rows (a day apart, from 2024-01-01)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    for statement in CREATE_V1 + extra:
        db.execute(statement)
    previous = GENESIS
    for seq in range(1, rows + 1):
        row = {"seq": seq, "time_utc": f"2024-01-{(seq - 1) % 28 + 1:02d}T10:00:00.000Z",
               "boot_id": "v1-boot", "clock_synced": 1, "kind": "checkout", "outcome": "ok",
               "item": f"item-{seq}", "title": "红楼梦", "patron_hash": None,
               "detail": json.dumps({"n": seq})}
        body = json.dumps([row[name] for name in FIELDS], ensure_ascii=False,
                          separators=(",", ":"))
        previous = hashlib.sha256((previous + body).encode("utf-8")).hexdigest()
        db.execute(f"INSERT INTO entries ({', '.join(FIELDS)}, chain) VALUES "
                   f"({', '.join('?' * len(FIELDS))}, ?)", [row[n] for n in FIELDS] + [previous])
    db.execute("UPDATE upload_state SET sent_upto = ?", (sent_upto,))
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()


if __name__ == "__main__":
    make_v1(Path(sys.argv[1]), int(sys.argv[2]))
