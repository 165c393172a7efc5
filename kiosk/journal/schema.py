"""The journal's tables, and the hash chain that ties each row to the one before it.

`entries` is append-only: triggers refuse UPDATE, and DELETE of any row above the prune mark,
so a bug cannot rewrite history. Each row's `chain` is SHA-256 over the previous row's chain and
this row's fields, which lets `kiosk journal verify` find a row that was changed, removed or
inserted outside the journal.

Version 2 adds, beside the rows:
- `open_intents`: the seq of each intent row (a checkout, checkin or renew about to be asked of
  the ILS) whose outcome is not journaled yet; a crash leaves them for the next start to settle.
- `pruned`: the prune mark. Rows 1 to `upto` were removed (uploaded, older than `keep_days`), and
  `chain` is row `upto`'s chain value, from which `verify` goes on. A trigger lets the mark move
  only forward, only over uploaded rows below every open intent, and only with the true chain
  value; `shrinks` is odd while space is being given back (the file gets shorter) and even
  again once that is done.
- `probe`: one row that `Journal.probe()` rewrites, to learn whether writing works, without
  adding an entry.

Version 3 drops the index on `time_utc`: it was a second B-tree written by every append (a WAL
page per row beside the table's own, about twice the pages of a plain insert), and nothing
needs it. Export by date filters each row by its own time while reading in seq order (rows are
not in time order when a clock was set back: a seq range would miss some), and the prune scans
from the oldest row, which it is about to remove anyway. The triggers cost an append nothing:
they fire on UPDATE and DELETE only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from kiosk.journal import json_text

VERSION = 3  # PRAGMA user_version
GENESIS = "0" * 64  # the chain value "before" row 1
INTENT = "intent"  # the kind of an intent row; its outcome is the operation
OPERATIONS = frozenset({"checkout", "checkin", "renew"})

_NO_DELETE = """CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
       WHEN OLD.seq > (SELECT upto FROM pruned WHERE id = 1)
       BEGIN SELECT RAISE(ABORT, 'journal rows are append-only'); END"""

# What version 2 adds to a version-1 file (and what a new file gets after the version-1 tables).
_VERSION_2 = (
    "CREATE TABLE open_intents (seq INTEGER PRIMARY KEY)",
    f"""CREATE TABLE pruned (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        upto      INTEGER NOT NULL DEFAULT 0,
        chain     TEXT    NOT NULL DEFAULT '{GENESIS}',
        keep_days INTEGER,
        shrinks   INTEGER NOT NULL DEFAULT 0
    )""",
    "INSERT INTO pruned (id) VALUES (1)",
    """CREATE TRIGGER pruned_only_forward BEFORE UPDATE OF upto, chain ON pruned
       WHEN NEW.upto < OLD.upto
         OR (NEW.upto > OLD.upto AND (
                NEW.upto > (SELECT sent_upto FROM upload_state WHERE id = 1)
             OR EXISTS (SELECT 1 FROM open_intents WHERE seq <= NEW.upto)
             OR NEW.chain IS NOT (SELECT chain FROM entries WHERE seq = NEW.upto)))
         OR (NEW.upto = OLD.upto AND NEW.chain IS NOT OLD.chain)
       BEGIN SELECT RAISE(ABORT, 'only uploaded rows below every open intent can be pruned');
       END""",
    """CREATE TRIGGER pruned_no_delete BEFORE DELETE ON pruned
       BEGIN SELECT RAISE(ABORT, 'the prune mark cannot be removed'); END""",
    "CREATE TABLE probe (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL, time_utc TEXT)",
    "INSERT INTO probe (id, n) VALUES (1, 0)",
    _NO_DELETE,
)

# Set on a new file before its tables are made (SQLite ignores it inside a transaction): pages
# freed by pruning can then be given back to the partition step by step (see prune.py).
NEW_FILE_PRAGMAS = ("auto_vacuum = INCREMENTAL",)

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
    # How far the uploader has had batches accepted by the central server.
    """CREATE TABLE upload_state (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        sent_upto INTEGER NOT NULL DEFAULT 0
    )""",
    "INSERT INTO upload_state (id, sent_upto) VALUES (1, 0)",
    *_VERSION_2,
    f"PRAGMA user_version = {VERSION}",
)

# From each older version to the next, in one transaction at open (kiosks in the field have
# version-1 and version-2 journals). Version 1's delete trigger refused every delete; version
# 2's allows the rows under the prune mark. Version 3 drops the time index (its pages go to the
# free list, which the next prune gives back or new rows reuse).
UPGRADES = {
    1: ("DROP TRIGGER entries_no_delete", *_VERSION_2, "PRAGMA user_version = 2"),
    2: ("DROP INDEX IF EXISTS entries_time", "PRAGMA user_version = 3"),
}

# A reader that cannot upgrade an older file (full or read-only partition) reads it as it is,
# a version-1 file with empty stand-ins for what version 2 added: no open intents, nothing
# pruned. A version-2 file only has an index more.
READ_OLDER = {
    1: ("CREATE TEMP TABLE open_intents (seq INTEGER PRIMARY KEY)",
        f"""CREATE TEMP TABLE pruned (id INTEGER PRIMARY KEY, upto INTEGER NOT NULL DEFAULT 0,
            chain TEXT NOT NULL DEFAULT '{GENESIS}', keep_days INTEGER,
            shrinks INTEGER NOT NULL DEFAULT 0)""",
        "INSERT INTO temp.pruned (id) VALUES (1)"),
    2: (),
}

TRIGGERS = ("entries_no_update", "entries_no_delete", "pruned_only_forward", "pruned_no_delete")
TRIGGERS_V1 = TRIGGERS[:2]
FIELDS = ("seq", "time_utc", "boot_id", "clock_synced", "kind", "outcome", "item", "title",
          "patron_hash", "detail")


# json.dumps(values, ensure_ascii=False, separators=(",", ":")), made once: the same text.
_CHAIN_BODY = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Made once: `_CHAIN_BODY.encode` and an empty SHA-256 state. The writer hashes a row just after
# an fsync, when little of this is in the CPU's caches (see `json_text`); copying the empty state
# measured quicker cold than making a new one (hashlib.sha256(data)), though slower warm.
_CHAIN_JSON = json_text.encode_with(_CHAIN_BODY)
_SHA256 = hashlib.sha256()
_quoted = json.encoder.encode_basestring  # what the encoder quotes text with (ensure_ascii off)


def chain_value(previous: str, row: dict[str, Any]) -> str:
    """The chain value of `row` (a mapping with FIELDS) following a row whose chain is
    `previous`."""
    return chain_of(previous, [row[name] for name in FIELDS])


def chain_of(previous: str, values: Sequence[Any]) -> str:
    """`chain_value` of a row given as its values in FIELDS order."""
    digest = _SHA256.copy()
    digest.update(_chain_text(previous, values).encode("utf-8"))
    return digest.hexdigest()


def _chain_text(previous: str, values: Sequence[Any]) -> str:
    """`previous` and the JSON array of `values`, as `_CHAIN_JSON` writes it, written here by
    hand for the types a row has (int seq and clock flag, text or None for the rest): each
    text quoted by the json module's own C function, so the bytes are the same. Half the cold
    cost of the encoder's walk over the list (it runs just after an fsync). Any other value
    (a caller's int item, say) takes the encoder itself."""
    seq, time_utc, boot_id, synced, kind, outcome, item, title, patron, detail = values
    if type(seq) is not int or (synced is not None and type(synced) is not int):
        return previous + _CHAIN_JSON(values)
    try:
        return (f"{previous}[{seq},{_quoted(time_utc)},{_quoted(boot_id)},"
                f"{'null' if synced is None else synced},{_quoted(kind)},{_quoted(outcome)},"
                f"{'null' if item is None else _quoted(item)},"
                f"{'null' if title is None else _quoted(title)},"
                f"{'null' if patron is None else _quoted(patron)},"
                f"{'null' if detail is None else _quoted(detail)}]")
    except TypeError:  # not text: the encoder writes it as it always did
        return previous + _CHAIN_JSON(values)
