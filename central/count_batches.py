"""The batches of counts kiosks uploaded, for `kiosk-central counts list|remove`: which ones
arrived, and taking a wrong one out of the totals again. Runs on the command line's thread.

Removing subtracts exactly what the batch added (its rows in batch_counts) from the totals
the figures read, in one transaction with its audit entry. The batch itself stays, marked
removed: its seq range stays known, so the kiosk resending it (its answer lost) is told
"duplicate" and a new batch over those rows is refused. A kiosk never uploads removed rows
again; to count them after all, the kiosk's journal would have to be replayed on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from central import audit
from central.audit import AuditAction
from central.db import Database
from central.errors import CannotRemove, NotFound
from central.storage import utc_now


@dataclass(frozen=True)
class CountBatch:
    batch_id: str
    kiosk_id: str
    first_seq: int
    last_seq: int
    counts: int                 # its count rows, added up per key
    n: int | None               # what they add up to; None: accepted before batch_counts
    received_utc: str
    removed_utc: str | None
    removed_by: str | None

    @property
    def journal_rows(self) -> int:
        return self.last_seq - self.first_seq + 1


_SELECT = ("SELECT b.batch_id, b.kiosk_id, b.first_seq, b.last_seq, b.row_count, "
           "(SELECT SUM(c.n) FROM batch_counts c WHERE c.batch_id = b.batch_id), "
           "b.received_utc, r.removed_utc, r.removed_by FROM batches b "
           "LEFT JOIN removed_batches r ON r.batch_id = b.batch_id")


def _batch(row: tuple) -> CountBatch:
    batch_id, kiosk, first, last, counts, n, received, removed, by = row
    return CountBatch(batch_id, kiosk, int(first), int(last), int(counts),
                      None if n is None and counts else int(n or 0), received, removed, by)


def listing(db: Database, kiosk_id: str | None = None, limit: int = 100) -> list[CountBatch]:
    """The newest batches first, of one kiosk or of all."""
    where, params = ("WHERE b.kiosk_id = ? ", [kiosk_id]) if kiosk_id else ("", [])
    with db.read() as conn:
        rows = conn.all(f"{_SELECT} {where}ORDER BY b.received_utc DESC, b.first_seq DESC "
                        "LIMIT ?", [*params, limit])
    return [_batch(row) for row in rows]


def remove(db: Database, batch_id: str, actor: str) -> CountBatch:
    """Takes the batch's counts out of the totals; raises NotFound, or CannotRemove for one
    removed already or accepted before its counts were kept apart."""
    with db.write() as conn:
        row = conn.one(f"{_SELECT} WHERE b.batch_id = ?", (batch_id,))
        if row is None:
            raise NotFound(f"no batch {batch_id!r} (kiosk-central counts list shows them)")
        found = _batch(row)
        if conn.postgres:  # the kiosk's uploads wait until this is done (as in ingest)
            conn.execute("SELECT id FROM kiosks WHERE id = ? FOR UPDATE", (found.kiosk_id,))
        if found.removed_utc is not None:
            raise CannotRemove(f"batch {batch_id} was removed already, {found.removed_utc} "
                               f"by {found.removed_by}")
        parts = conn.all("SELECT n, day, hour, event, outcome, title_key FROM batch_counts "
                         "WHERE batch_id = ?", (batch_id,))
        if len(parts) != found.counts:
            raise CannotRemove(f"batch {batch_id} was accepted before the server kept each "
                               "batch's counts apart: its counts cannot be told from the others")
        conn.executemany("UPDATE counts SET n = n - ? WHERE kiosk_id = ? AND day = ? AND "
                         "hour = ? AND event = ? AND outcome = ? AND title_key = ?",
                         [(n, found.kiosk_id, *key) for n, *key in parts])
        conn.execute("DELETE FROM counts WHERE kiosk_id = ? AND n <= 0", (found.kiosk_id,))
        now = utc_now()
        conn.execute("INSERT INTO removed_batches (batch_id, removed_utc, removed_by) "
                     "VALUES (?, ?, ?)", (batch_id, now, actor))
        audit.record(conn, actor, AuditAction.COUNTS_REMOVED, batch_id, detail={
            "kiosk": found.kiosk_id, "first_seq": found.first_seq,
            "last_seq": found.last_seq, "counts": found.counts, "n": found.n,
            "received_utc": found.received_utc})
    return replace(found, removed_utc=now, removed_by=actor)
