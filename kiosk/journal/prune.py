"""Pruning: rows nobody needs any more leave the journal, so that it cannot fill the card.

A row may go when the central server has it (seq <= upload_state.sent_upto), it is older than
`[journal] keep_days`, and every open intent is after it. Rows go as a prefix, in transactions
of `BATCH_ROWS`, so that the kiosk's own appends wait only milliseconds: each moves the prune
mark (`pruned.upto`, with that row's chain value, from which `verify` goes on) and deletes the
rows under it; the schema's triggers refuse any other delete.

How old a row is comes from its own time only when that was set by a synchronised clock: a Pi
without network starts in the past, so a row whose clock was not set is never the one that
decides, and the prefix ends at the last row written with a set clock before the cut-off.

Then the space: a journal made by this version (auto_vacuum=incremental) gives the freed pages
back to the partition in steps of `VACUUM_STEP_PAGES`, each its own short transaction. An older
journal (auto_vacuum off) is vacuumed once when that is cheap (small, and room for the copy),
which also turns incremental vacuum on; otherwise its freed pages are reused by new rows, so the
file stops growing. Before a file is made shorter, `pruned.shrinks` is moved in a committed
transaction: the writer's identity check then knows the shorter file is still its journal.
Runs in the uploader process after an upload, or in `kiosk journal prune`.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

BATCH_ROWS = 5000
VACUUM_STEP_PAGES = 256  # 1 MB a step
CHEAP_VACUUM_BYTES = 8 * 1024 * 1024  # a full VACUUM of this much takes about a second on a Pi
INCREMENTAL = 2  # PRAGMA auto_vacuum


@dataclass(frozen=True)
class PruneResult:
    rows: int  # rows pruned now
    upto: int  # rows 1 to this are pruned (now or before)
    keep_days: int
    freed_bytes: int  # how much shorter the file became
    reclaim: str  # how the space was handled, in words


def last_prunable(db: sqlite3.Connection, cutoff_utc: str) -> int:
    """The last seq that may be pruned with rows before `cutoff_utc` old enough (0: none)."""
    sent = db.execute("SELECT sent_upto FROM upload_state WHERE id = 1").fetchone()[0]
    limit = sent
    oldest_intent = db.execute("SELECT min(seq) FROM open_intents").fetchone()[0]
    if oldest_intent is not None:
        limit = min(limit, oldest_intent - 1)
    # The first row known to be young ends the prefix (its time came from a set clock).
    young = db.execute("SELECT min(seq) FROM entries WHERE time_utc >= ? "
                       "AND clock_synced IS NOT 0", (cutoff_utc,)).fetchone()[0]
    if young is not None:
        limit = min(limit, young - 1)
    last = db.execute("SELECT seq FROM entries WHERE seq <= ? AND clock_synced IS NOT 0 "
                      "AND time_utc < ? ORDER BY seq DESC LIMIT 1", (limit, cutoff_utc)).fetchone()
    return last[0] if last else 0


def prune(db: sqlite3.Connection, path: Path, cutoff_utc: str, keep_days: int,
          free_bytes: int) -> PruneResult:
    """Prune what may go before `cutoff_utc`, then give the space back as the file allows.
    `free_bytes` is the partition's free space (a full VACUUM needs room for a copy)."""
    upto = db.execute("SELECT upto FROM pruned WHERE id = 1").fetchone()[0]
    target = last_prunable(db, cutoff_utc)
    pruned = 0
    while upto < target:
        # A failure leaves the transaction to the caller, who rolls it back.
        db.execute("BEGIN IMMEDIATE")
        end = db.execute("SELECT seq, chain FROM entries WHERE seq > ? AND seq <= ? "
                         "ORDER BY seq DESC LIMIT 1",
                         (upto, min(upto + BATCH_ROWS, target))).fetchone()
        if end is None:  # a gap in seq (verify reports it): jump over it
            end = db.execute("SELECT seq, chain FROM entries WHERE seq > ? AND seq <= ? "
                             "ORDER BY seq LIMIT 1", (upto, target)).fetchone()
        # The mark first: the triggers allow deleting only rows under it.
        db.execute("UPDATE pruned SET upto = ?, chain = ?, keep_days = ? WHERE id = 1",
                   (end[0], end[1], keep_days))
        pruned += db.execute("DELETE FROM entries WHERE seq <= ?", (end[0],)).rowcount
        db.execute("COMMIT")
        upto = end[0]
    before = _file_size(path)
    reclaim = give_back(db, free_bytes) if pruned else "nothing pruned"
    return PruneResult(pruned, upto, keep_days, max(0, before - _file_size(path)), reclaim)


def give_back(db: sqlite3.Connection, free_bytes: int) -> str:
    """Return the journal's free pages to the partition where that is cheap; says how."""
    free_pages = db.execute("PRAGMA freelist_count").fetchone()[0]
    if not free_pages:
        return "no free pages"
    size = (db.execute("PRAGMA page_count").fetchone()[0]
            * db.execute("PRAGMA page_size").fetchone()[0])
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL:
        _will_shrink(db)
        while db.execute("PRAGMA freelist_count").fetchone()[0]:
            db.execute(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES})").fetchall()
        _checkpoint(db)
        return f"incremental vacuum ({free_pages} pages)"
    if size <= CHEAP_VACUUM_BYTES and free_bytes >= 2 * size:
        _will_shrink(db)
        db.execute(f"PRAGMA auto_vacuum = {INCREMENTAL}")
        db.execute("VACUUM")  # once: from now on the file gives pages back step by step
        _checkpoint(db)
        return "vacuum (once; later prunes give space back step by step)"
    return f"{free_pages} free pages kept for new rows (the file stops growing)"


def _will_shrink(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE pruned SET shrinks = shrinks + 1 WHERE id = 1")
    db.execute("COMMIT")


def _checkpoint(db: sqlite3.Connection) -> None:
    # PASSIVE: copies what it can without waiting for the kiosk; the file is cut to its new
    # length once every frame is copied (now, or at the kiosk's next checkpoint).
    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
