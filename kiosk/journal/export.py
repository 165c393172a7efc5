"""Journal rows as CSV for spreadsheets (Excel and WPS keep the Chinese) or as JSON lines.

Patron hashes are left out unless asked for: an export is a file that leaves the kiosk.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import IO

from kiosk.journal.store import Row, parse_utc

COLUMNS = ("seq", "time_utc", "time_local", "boot_id", "clock_synced", "kind", "outcome",
           "item", "title", "detail")
# A cell starting with one of these runs as a formula in a spreadsheet; a book title from the
# ILS must never do that.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv(rows: Iterable[Row], out: IO[str], *, patron_hash: bool = False) -> int:
    """Write UTF-8 with a byte-order mark and CRLF line ends, which Excel needs; returns rows."""
    columns = COLUMNS + (("patron_hash",) if patron_hash else ())
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    n = 0
    for row in rows:
        record = _record(row, patron_hash)
        writer.writerow([_cell(record[name]) for name in columns])
        n += 1
    return n


def write_jsonl(rows: Iterable[Row], out: IO[str], *, patron_hash: bool = False) -> int:
    n = 0
    for row in rows:
        # default=str: binary data written into a row by hand is shown, not a crash.
        out.write(json.dumps(_record(row, patron_hash), ensure_ascii=False, default=str) + "\n")
        n += 1
    return n


def _record(row: Row, patron_hash: bool) -> dict:
    record = {
        "seq": row.seq, "time_utc": row.time_utc, "time_local": local_time(row.time_utc),
        "boot_id": row.boot_id, "clock_synced": row.clock_synced, "kind": row.kind,
        "outcome": row.outcome, "item": row.item, "title": row.title, "detail": row.detail,
    }
    if patron_hash:
        record["patron_hash"] = row.patron_hash
    return record


def local_time(time_utc: str | None) -> str:
    """`2026-11-24T06:00:00.000Z` in the kiosk's time zone, as a spreadsheet reads it; "" for
    no time (an empty journal's first and last)."""
    if time_utc is None:
        return ""
    try:
        moment = parse_utc(time_utc)
    except (TypeError, ValueError, OverflowError):  # a row changed by hand: `verify` says so
        return ""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text
