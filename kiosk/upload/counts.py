"""Journal rows to the counts the central server receives: pure, no network, no files written.

A count is how many rows share a kiosk-local date and hour, a kind (the event), an outcome and,
for e-book rows only, the title ("book:<id>"). Nothing else of a row leaves the kiosk: never the
patron hash, an item barcode, a title's text or the row's detail. Run by the uploader process.

Contract 2 (docs/upload.md): an offline transaction the ILS took when it came back is counted
under its own event (`checkout`, `checkin`, `renew`) as `replayed`, or `replay_refused`; a
replay row this uploader cannot read keeps contract 1's `offline_replay`, so it is never lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo

from common.upload_contract import (
    LEGACY_REPLAY_EVENT,
    MAX_COUNTS,
    MAX_ROW_WEIGHT,
    REPLAY_OUTCOMES,
    REPLAYED_EVENTS,
    counted_refusals,
)
from kiosk.journal import Row
from kiosk.journal.store import parse_utc

log = logging.getLogger(__name__)
EBOOK_EVENTS = frozenset({"ebook_view", "ebook_qr", "ebook_download"})
TITLE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # as content/manifest.py and the server check
_NOT_EVENT = re.compile(r"[^a-z_]")
_NOT_OUTCOME = re.compile(r"[^a-z_ ]")


@dataclass(frozen=True)
class CountKey:
    date: str  # YYYY-MM-DD, kiosk local
    hour: int  # 0-23, kiosk local
    event: str
    outcome: str
    key: str | None


@dataclass(frozen=True)
class Batch:
    batch_id: str
    first_seq: int
    last_seq: int
    rows: int  # journal rows counted
    counts: tuple[tuple[CountKey, int], ...]  # sorted by key

    def body(self, kiosk_id: str) -> dict:
        """The JSON body of POST /api/v1/counts."""
        return {"kiosk_id": kiosk_id, "batch_id": self.batch_id, "first_seq": self.first_seq,
                "last_seq": self.last_seq,
                "counts": [{"date": k.date, "hour": k.hour, "event": k.event,
                            "outcome": k.outcome, "key": k.key, "n": n} for k, n in self.counts]}


def count_key(row: Row, zone: tzinfo | None = None) -> CountKey:
    """The count a row adds to; `zone` None means the kiosk's own time zone."""
    local = parse_utc(row.time_utc).astimezone(zone)
    if row.kind == LEGACY_REPLAY_EVENT:
        event, outcome = replay_names(row)
    else:
        event, outcome = event_name(row.kind), outcome_name(row.outcome)
    key = None
    if event in EBOOK_EVENTS and row.item and TITLE_ID.match(row.item):
        key = f"book:{row.item}"
    return CountKey(local.date().isoformat(), local.hour, event, outcome, key)


def replay_names(row: Row) -> tuple[str, str]:
    """An offline replay row's (event, outcome): the transaction's own kind (its detail "kind")
    and whether the ILS took it. A kind or outcome not known here is logged and counted as
    contract 1 sent it, `offline_replay` with the offline store's word."""
    kind = row.detail.get("kind") if isinstance(row.detail, dict) else None
    outcome = REPLAY_OUTCOMES.get(row.outcome)
    if kind in REPLAYED_EVENTS and outcome is not None:
        return str(kind), outcome
    fallback = outcome_name(row.outcome)
    log.warning("offline replay row %d: kind %r, outcome %r not known to this uploader; "
                "counted as %s %s", row.seq, kind, row.outcome, LEGACY_REPLAY_EVENT, fallback)
    return LEGACY_REPLAY_EVENT, fallback


def event_name(kind: str) -> str:
    """A kind as the server's `[a-z_]{1,32}`; the app's kinds already are."""
    return _NOT_EVENT.sub("_", kind.lower())[:32] or "unknown"


def outcome_name(outcome: str) -> str:
    """An outcome as the server's `[a-z_ ]{1,64}`. Digits and other characters become "_", so
    a reason that quoted a card or item number cannot carry it to the server."""
    return _NOT_OUTCOME.sub("_", outcome.strip().lower())[:64].strip() or "unknown"


def weight(row: Row) -> int:
    """How many events a row stands for: refused download links are journaled counted, a row
    a minute per reason (detail "count"), up to the contract's ceiling (the server refuses a
    batch past it); every other row is one."""
    if (counted_refusals(event_name(row.kind), outcome_name(row.outcome))
            and isinstance(row.detail, dict)):
        count = row.detail.get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
            if count > MAX_ROW_WEIGHT:
                log.warning("row %d holds %d refused download links; counted as %d, the most "
                            "one row may stand for", row.seq, count, MAX_ROW_WEIGHT)
            return min(count, MAX_ROW_WEIGHT)
    return 1


def build_batch(rows: Iterable[Row], batch_id: str, *, max_rows: int,
                max_counts: int = MAX_COUNTS, upto_seq: int | None = None,
                zone: tzinfo | None = None) -> Batch | None:
    """Count rows in sequence order until `max_rows` rows, `upto_seq`, or a row that would need
    count row number `max_counts + 1`; None when there are no rows."""
    counts: dict[CountKey, int] = {}
    first: int | None = None
    last = taken = 0  # last is set with first
    for row in rows:
        if taken >= max_rows or (upto_seq is not None and row.seq > upto_seq):
            break
        key = count_key(row, zone)
        if key not in counts and len(counts) >= max_counts:
            break
        counts[key] = counts.get(key, 0) + weight(row)
        first = row.seq if first is None else first
        last = row.seq
        taken += 1
    if first is None:
        return None
    ordered = sorted(counts.items(), key=lambda item: _order(item[0]))
    return Batch(batch_id, first, last, taken, tuple(ordered))


def _order(key: CountKey) -> tuple:
    return key.date, key.hour, key.event, key.outcome, key.key or ""
