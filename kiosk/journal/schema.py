"""The journal's tables, and the hash chain that ties each row to the one before it.

`entries` is append-only: triggers refuse UPDATE and DELETE, so a bug cannot rewrite history.
Each row's `chain` is SHA-256 over the previous row's chain and this row's fields, which lets
`kiosk journal verify` find a row that was changed, removed or inserted outside the journal.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

VERSION = 1  # PRAGMA user_version
GENESIS = "0" * 64  # the chain value "before" row 1

# One statement each, run in one transaction when the file is new.
CREATE = (
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
    # How far the uploader has had batches accepted by the central server.
    """CREATE TABLE upload_state (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        sent_upto INTEGER NOT NULL DEFAULT 0
    )""",
    "INSERT INTO upload_state (id, sent_upto) VALUES (1, 0)",
    f"PRAGMA user_version = {VERSION}",
)

TRIGGERS = ("entries_no_update", "entries_no_delete")
FIELDS = ("seq", "time_utc", "boot_id", "clock_synced", "kind", "outcome", "item", "title",
          "patron_hash", "detail")


def chain_value(previous: str, row: dict[str, Any]) -> str:
    """The chain value of `row` (a mapping with FIELDS) following a row whose chain is `previous`."""
    body = json.dumps([row[name] for name in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous + body).encode("utf-8")).hexdigest()
