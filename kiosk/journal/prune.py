"""Pruning: rows nobody needs any more leave the journal, so that it cannot fill the card.

A row may go when the central server has it (seq <= upload_state.sent_upto), it is older than
`[journal] keep_days`, and every open intent is after it. Rows go as a prefix, in transactions
of `BATCH_ROWS` with a pause between them, so that the kiosk's own appends wait for one short
transaction at most, never for the whole prune. Each moves the prune mark (`pruned.upto`, with
that row's chain value, from which `verify` goes on) and deletes the rows under it; the
schema's triggers refuse any other delete.

How old a row is comes from its own time only when that was set by a synchronised clock: a Pi
without network starts in the past, so a row whose clock was not set is never the one that
decides, and the prefix ends at the last row written with a set clock before the cut-off.

Then the space: a journal made by this version (auto_vacuum=incremental) gives the freed pages
back to the partition in steps of `VACUUM_STEP_PAGES`, each its own short transaction and
checkpoint, so the file gets shorter as it goes. An older journal (auto_vacuum off) is vacuumed
once when that is cheap (small, and room for the copy), which also turns incremental vacuum on;
otherwise its freed pages are reused by new rows, so the file stops growing. While the file is
being made shorter `pruned.shrinks` is odd (moved in a committed transaction before, and again
once a checkpoint copied everything): the writer's identity check then knows the shorter file
is still its journal.
Runs in the uploader process after an upload, or in `kiosk journal prune`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.sizes import file_size

BATCH_ROWS = 5000
VACUUM_STEP_PAGES = 128  # 512 KB a step
# Between two of its transactions the prune leaves the write lock free this long, so that the
# kiosk's append, waiting in SQLite's busy handler (which sleeps up to 20 ms at a time in its
# first 100 ms), gets in instead of waiting for the whole prune.
PAUSE_S = 0.05
# The prune's own connection checkpoints once the WAL holds this many pages, so the kiosk's
# next commit does not find a WAL full of the prune's pages to copy back.
CHECKPOINT_PAGES = 100
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
    # The first row known to be young ends the prefix (its time came from a set clock). Read in
    # seq order from the oldest row, no further than the limit: the rows it passes over are the
    # ones about to be pruned (there is no time index to ask: rows are not in time order).
    young = db.execute("SELECT seq FROM entries WHERE seq <= ? AND time_utc >= ? "
                       "AND clock_synced IS NOT 0 ORDER BY seq LIMIT 1",
                       (limit, cutoff_utc)).fetchone()
    if young is not None:
        limit = young[0] - 1
    last = db.execute("SELECT seq FROM entries WHERE seq <= ? AND clock_synced IS NOT 0 "
                      "AND time_utc < ? ORDER BY seq DESC LIMIT 1", (limit, cutoff_utc)).fetchone()
    return last[0] if last else 0


def prune(db: sqlite3.Connection, path: Path, cutoff_utc: str, keep_days: int,
          free_bytes: int, pause: Callable[[float], None] = time.sleep) -> PruneResult:
    """Prune what may go before `cutoff_utc`, then give the space back as the file allows.
    `free_bytes` is the partition's free space (a full VACUUM needs room for a copy)."""
    db.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
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
        pause(PAUSE_S)
    before = file_size(path)
    # Also after nothing was pruned: a shrink that a stop cut short is finished.
    reclaim = (give_back(db, free_bytes, pause) if pruned or shrinking(db)
               else "nothing pruned")
    return PruneResult(pruned, upto, keep_days, max(0, before - file_size(path)), reclaim)


def give_back(db: sqlite3.Connection, free_bytes: int,
              pause: Callable[[float], None] = time.sleep) -> str:
    """Return the journal's free pages to the partition where that is cheap; says how.

    The file gets shorter when a checkpoint copies the vacuum into it (this one, or the
    kiosk's next): `pruned.shrinks` is odd from before the first page moves until a checkpoint
    has copied everything, and the writer's identity check takes a shorter file for its
    journal while it is odd or after it moved."""
    free_pages = db.execute("PRAGMA freelist_count").fetchone()[0]
    if not free_pages:
        return "no free pages" + (", shrinking finished" if _finish_shrinking(db) else "")
    size = (db.execute("PRAGMA page_count").fetchone()[0]
            * db.execute("PRAGMA page_size").fetchone()[0])
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] == INCREMENTAL:
        _start_shrinking(db)
        while left := db.execute("PRAGMA freelist_count").fetchone()[0]:
            _vacuum_step(db, min(left, VACUUM_STEP_PAGES))
            pause(PAUSE_S)
        _finish_shrinking(db)
        return f"incremental vacuum ({free_pages} pages)"
    if size <= CHEAP_VACUUM_BYTES and free_bytes >= 2 * size:
        _start_shrinking(db)
        db.execute(f"PRAGMA auto_vacuum = {INCREMENTAL}")
        db.execute("VACUUM")  # once: from now on the file gives pages back step by step
        _finish_shrinking(db)
        return "vacuum (once; later prunes give space back step by step)"
    return f"{free_pages} free pages kept for new rows (the file stops growing)"


def _vacuum_step(db: sqlite3.Connection, pages: int) -> None:
    """Give `pages` free pages back, in one transaction. Each step of the statement moves one
    page (and Python's sqlite3 steps it once), hence one statement a page."""
    db.execute("BEGIN IMMEDIATE")
    for _ in range(pages):
        db.execute("PRAGMA incremental_vacuum")
    db.execute("COMMIT")
    # The file gets shorter as it goes, not only at the end (PASSIVE: never waits).
    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def shrinking(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT shrinks FROM pruned WHERE id = 1").fetchone()[0] % 2 == 1


def _start_shrinking(db: sqlite3.Connection) -> None:
    if not shrinking(db):
        _bump(db)


def _finish_shrinking(db: sqlite3.Connection) -> bool:
    """Once every frame of the WAL is in the file (the file has its new length), the shrink is
    over; True when it was (a PASSIVE checkpoint: it never waits for the kiosk)."""
    if not shrinking(db):
        return False
    _busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if frames != copied:
        return False  # the next prune, or the kiosk's checkpoint and then the next prune
    _bump(db)
    return True


def _bump(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE pruned SET shrinks = shrinks + 1 WHERE id = 1")
    db.execute("COMMIT")



