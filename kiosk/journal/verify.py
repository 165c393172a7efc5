"""Checks that a journal is whole: SQLite's own integrity, the schema, seq order and the chain."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from kiosk.journal import schema

MAX_REPORTED = 20  # after this many row problems, only count the rest


def problems_in(db: sqlite3.Connection) -> list[str]:
    """Every problem found, as sentences; an empty list means the journal is sound."""
    try:
        return _structure(db) + _rows(db)
    except sqlite3.DatabaseError as e:
        return [f"cannot read the journal: {e}"]


def _structure(db: sqlite3.Connection) -> list[str]:
    problems = [f"SQLite integrity: {line}" for (line,) in db.execute("PRAGMA integrity_check")
                if line != "ok"]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if not 1 <= version <= schema.VERSION:
        problems.append(f"journal version is {version}, expected {schema.VERSION}")
    triggers = {name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    # A version-1 file is read as it is when it could not be upgraded (a full partition).
    wanted = schema.TRIGGERS if version >= 2 else schema.TRIGGERS_V1
    problems += [f"the append-only guard {name} is missing" for name in wanted
                 if name not in triggers]
    return problems


def _rows(db: sqlite3.Connection) -> list[str]:
    problems: list[str] = []
    extra = 0

    def report(text: str) -> None:
        nonlocal extra
        if len(problems) < MAX_REPORTED:
            problems.append(text)
        else:
            extra += 1

    pruned_upto, previous = db.execute("SELECT upto, chain FROM pruned WHERE id = 1").fetchone()
    expected = pruned_upto + 1
    intents: set[int] = set()  # intent rows seen
    named: set[int] = set()  # intents some row names
    cursor = db.execute(f"SELECT {', '.join(schema.FIELDS)}, chain FROM entries ORDER BY seq")
    for values in cursor:
        row = dict(zip(schema.FIELDS, values))
        seq = row["seq"]
        binary = [name for name, value in row.items() if isinstance(value, bytes)]
        if binary:  # written outside the journal, which stores text: no chain value fits
            report(f"row {seq} holds binary data in {', '.join(binary)}: changed outside the "
                   "journal")
            expected, previous = seq + 1, values[-1]
            continue
        if seq != expected:
            report(f"rows {expected} to {seq - 1} are missing" if seq > expected
                   else f"row {seq} is out of order")
        if schema.chain_value(previous, row) != values[-1]:
            report(f"row {seq} does not match its chain value: changed outside the journal, "
                   "or a row before it was")
        if not _is_utc_time(row["time_utc"]):
            report(f"row {seq} has a malformed time {row['time_utc']!r}")
        if row["kind"] == schema.INTENT:
            intents.add(seq)
        intent = _named_intent(row["detail"])
        if intent is not None:
            if intent not in intents and intent > pruned_upto:
                report(f"row {seq} names intent {intent}, which is not an earlier intent row")
            named.add(intent)
        expected, previous = seq + 1, values[-1]
    last = expected - 1
    sent = db.execute("SELECT sent_upto FROM upload_state WHERE id = 1").fetchone()
    if sent is None:
        report("the upload progress record is missing")
    elif sent[0] > last:
        report(f"rows up to {sent[0]} are marked sent, but the last row is {last}")
    if pruned_upto > (sent[0] if sent else 0):
        report(f"rows up to {pruned_upto} are pruned, but only rows up to "
               f"{sent[0] if sent else 0} were uploaded")
    open_intents = {seq for (seq,) in db.execute("SELECT seq FROM open_intents")}
    for seq in sorted(open_intents - intents):
        report(f"open intent {seq} is not an intent row")
    for seq in sorted(intents - open_intents - named):
        report(f"intent {seq} is settled, but no row names it")
    if extra:
        problems.append(f"... and {extra} more problems")
    return problems


def _named_intent(detail: str | None) -> int | None:
    """The intent a row's detail names, if any (parsed only when it may name one: cheap)."""
    if not detail or '"intent"' not in detail:
        return None
    try:
        value = json.loads(detail).get("intent")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def _is_utc_time(text: object) -> bool:
    if not isinstance(text, str) or not text.endswith("Z"):
        return False
    try:
        datetime.fromisoformat(text[:-1])
    except ValueError:
        return False
    return True
