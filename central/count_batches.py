"""The batches of counts kiosks uploaded, for `kiosk-central counts list|remove`: which ones
arrived, and taking a wrong one out of the totals again. Runs on the command line's thread.

Removing subtracts exactly what the batch added (its rows in batch_counts) from the totals
the figures read, in one transaction with its audit entry. The batch itself stays, marked
removed: its seq range stays known, so the kiosk resending it (its answer lost) is told
"duplicate" and a new batch over those rows is refused. A kiosk never uploads removed rows
again; to count them after all, the kiosk's journal would have to be replayed on purpose.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from central import audit
from central.audit import AuditAction
from central.db import Database
from central.errors import CannotRemove, NotFound
from central.fold import Key, add_to_totals, summed
from central.storage import utc_now


@dataclass(frozen=True)
class CountBatch:
    batch_id: str
    kiosk_id: str
    first_seq: int
    last_seq: int
    counts: int | None          # its count rows, added up per key; None: accepted before
    n: int | None               # what they add up to          ... batch_counts existed
    received_utc: str
    removed_utc: str | None
    removed_by: str | None

    @property
    def journal_rows(self) -> int:
        return self.last_seq - self.first_seq + 1


_SELECT = ("SELECT b.batch_id, b.kiosk_id, b.first_seq, b.last_seq, c.counts, "
           "b.received_utc, r.removed_utc, r.removed_by FROM batches b "
           "LEFT JOIN batch_counts c ON c.batch_id = b.batch_id "
           "LEFT JOIN removed_batches r ON r.batch_id = b.batch_id")


def _batch(row: tuple) -> tuple[CountBatch, Counter[Key] | None]:
    batch_id, kiosk, first, last, text, received, removed, by = row
    counts = None if text is None else summed(kiosk, text)
    return CountBatch(batch_id, kiosk, int(first), int(last),
                      None if counts is None else len(counts),
                      None if counts is None else sum(counts.values()),
                      received, removed, by), counts


def listing(db: Database, kiosk_id: str | None = None, limit: int = 100) -> list[CountBatch]:
    """The newest batches first, of one kiosk or of all."""
    where, params = ("WHERE b.kiosk_id = ? ", [kiosk_id]) if kiosk_id else ("", [])
    with db.read() as conn:
        rows = conn.all(f"{_SELECT} {where}ORDER BY b.received_utc DESC, b.first_seq DESC "
                        "LIMIT ?", [*params, limit])
    return [_batch(row)[0] for row in rows]


def remove(db: Database, batch_id: str, actor: str) -> CountBatch:
    """Takes the batch's counts out of the totals; raises NotFound, or CannotRemove for one
    removed already or accepted before its counts were kept apart."""
    with db.write() as conn:
        row = conn.one(f"{_SELECT} WHERE b.batch_id = ?", (batch_id,))
        if row is None:
            raise NotFound(f"no batch {batch_id!r} (kiosk-central counts list shows them)")
        found, counts = _batch(row)
        if conn.postgres:  # the kiosk's uploads wait until this is done (as in ingest)
            conn.execute("SELECT id FROM kiosks WHERE id = ? FOR UPDATE", (found.kiosk_id,))
        if found.removed_utc is not None:
            raise CannotRemove(f"batch {batch_id} was removed already, {found.removed_utc} "
                               f"by {found.removed_by}")
        if counts is None:
            raise CannotRemove(f"batch {batch_id} was accepted before the server kept each "
                               "batch's counts apart: its counts cannot be told from the others")
        # Not folded yet: taking it off the list is enough. Folded (or being folded: the fold
        # holds the row until it commits, and then this matches nothing): subtract.
        waiting = conn.execute("UPDATE batch_counts SET folded = 1 WHERE batch_id = ? "
                               "AND folded = 0", (batch_id,)).rowcount
        if not waiting:
            add_to_totals(conn, counts, sign=-1)
        now = utc_now()
        conn.execute("INSERT INTO removed_batches (batch_id, removed_utc, removed_by) "
                     "VALUES (?, ?, ?)", (batch_id, now, actor))
        audit.record(conn, actor, AuditAction.COUNTS_REMOVED, batch_id, detail={
            "kiosk": found.kiosk_id, "first_seq": found.first_seq,
            "last_seq": found.last_seq, "counts": found.counts, "n": found.n,
            "received_utc": found.received_utc})
    return replace(found, removed_utc=now, removed_by=actor)
