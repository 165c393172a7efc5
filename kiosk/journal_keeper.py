"""The runtime's hold on the journal: write its rows, know when writing fails and why, and find
out by itself when writing works again. Runs on the runtime's thread (the Kivy main thread).

A row that cannot be written is never shown as done: the keeper reports a `JournalFault`, the
runtime tells the core (`JournalFailed`), and the kiosk is out of service. Rows that were due
meanwhile (the outcome of a book already lent) are held in memory and written first when the
journal is back, each saying when it happened. An intent that cannot be written is not held:
its ILS call never goes out.

Coming back: a full partition once there is room again (beyond the reserve), a read-only one
once a write probe succeeds. A journal replaced or damaged under the running kiosk stays out of
service: starting a new one would hide what happened, so staff decide (and restart).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk import sqlite_faults, system
from kiosk.config import Config
from kiosk.core import events as ev
from kiosk.errors import JournalError
from kiosk.journal import IntentNotOpen, Journal, Row, reserve
from kiosk.journal.store import utc_now
from kiosk.sizes import size_text

log = logging.getLogger(__name__)

PROBE_EVERY_S = 5.0  # out of service: how often writing is tried again
CHECK_EVERY_S = 10.0  # in service: how often the file and the free space are looked at
MAX_HELD_ROWS = 10_000  # rows kept in memory while out of service; more are dropped, logged
# Causes that clear by themselves; the others need staff (the file is not the one we kept).
RECOVERABLE = frozenset({"full", "read_only", "io"})


@dataclass(frozen=True)
class JournalFault:
    cause: str  # kiosk.errors.JOURNAL_CAUSES
    message: str  # what failed, for the log and the admin screen
    since: float  # the runtime's clock

    @property
    def recoverable(self) -> bool:
        return self.cause in RECOVERABLE


@dataclass(frozen=True)
class _Held:
    row: ev.JournalAppend
    at_utc: str  # when it should have been written


class JournalKeeper:
    def __init__(self, config: Config, journal: Journal | None, *,
                 clock: Callable[[], float],
                 opener: Callable[[Config], Journal] | None = None) -> None:
        """`journal` already open, or None to open it at `start()` with `opener`."""
        self.config = config
        self.journal = journal
        self.clock = clock
        self.fault: JournalFault | None = None
        self._opener = opener or _open_journal
        self._held: list[_Held] = []
        self._intents: dict[int, int] = {}  # the core's intent key -> the journal's seq
        self._next_probe = 0.0
        self._next_check = 0.0
        self._reserve_bytes = config.journal.reserve_mb * 1024 * 1024

    # --- start and the steady check -------------------------------------------------------

    def start(self) -> ev.JournalFailed | None:
        """Open the journal if not yet open, check it, keep the reserve; a fault if any."""
        try:
            if self.journal is None:
                self.journal = self._opener(self.config)
            else:
                self.journal.check()
        except JournalError as e:
            return self._failed(e)
        self._ensure_reserve()
        self._next_check = self.clock() + CHECK_EVERY_S
        return None

    def tick(self) -> object | None:
        """Called often: a `JournalFailed` or `JournalRestored` for the core when the state
        changed, else None. Cheap: it looks at the disk only every few seconds."""
        now = self.clock()
        if self.fault is None:
            if now < self._next_check:
                return None
            self._next_check = now + CHECK_EVERY_S
            return self._check()
        if not self.fault.recoverable or now < self._next_probe:
            return None
        self._next_probe = now + PROBE_EVERY_S
        return self._try_again()

    def _check(self) -> ev.JournalFailed | None:
        if self.journal is None:  # not started: start() opens it, or records why it cannot
            return None
        try:
            self.journal.check()
        except JournalError as e:
            return self._failed(e)
        if self._partition_full():  # before a write fails half-way through a transaction
            path = self.config.journal_path
            return self._failed(JournalError(sqlite_faults.describe(
                "full", path, "journal", f"under {size_text(system.FULL_BYTES)} left"),
                cause="full"))
        return None

    # --- writing --------------------------------------------------------------------------

    def intent(self, intent: ev.JournalIntent) -> ev.JournalFailed | None:
        """Journal an intent; on failure (or while out of service) its call must not go."""
        if self.fault is not None or self.journal is None:
            log.error("%s of %s not sent: the journal cannot be written", intent.operation,
                      intent.item)
            return None
        try:
            self._intents[intent.key] = self.journal.open_intent(
                intent.operation, item=intent.item, patron=intent.patron,
                detail=intent.detail or None)
        except JournalError as e:
            log.error("%s of %s not sent: its intent could not be journaled", intent.operation,
                      intent.item)
            return self._failed(e)
        return None

    def intent_written(self, key: int) -> bool:
        return key in self._intents

    def append(self, row: ev.JournalAppend) -> ev.JournalFailed | None:
        """Write one row; while out of service (or when this write fails) it is held."""
        if self.fault is not None or self.journal is None:
            self._hold(row)
            return None
        try:
            self._write(self.journal, row)
        except JournalError as e:
            self._hold(row)
            return self._failed(e)
        return None

    def _write(self, journal: Journal, row: ev.JournalAppend,
               detail: dict[str, Any] | None = None) -> int:
        intent = self._intents.get(row.intent) if row.intent is not None else None
        detail = detail if detail is not None else row.detail
        write = functools.partial(journal.append, row.kind, row.outcome, item=row.item,
                                  title=row.title, patron=row.patron)
        try:
            seq = write(detail=detail, intent=intent, settles=row.settles)
        except IntentNotOpen:  # staff marked it checked while it was still in flight
            log.warning("intent %s was settled before its outcome %s %s came", intent,
                        row.kind, row.outcome)
            seq = write(detail={**detail, "intent": intent, "intent_settled_before": True})
        if row.intent is not None:  # an outcome, even "unknown": no longer in flight
            self._intents.pop(row.intent, None)
        return seq

    @property
    def held_rows(self) -> int:
        """Rows waiting in memory for the journal to take them again."""
        return len(self._held)

    def _hold(self, row: ev.JournalAppend) -> None:
        if len(self._held) < MAX_HELD_ROWS:
            self._held.append(_Held(row, utc_now()))
        else:
            log.error("journal row %s %s dropped: %d rows already wait for the journal",
                      row.kind, row.outcome, MAX_HELD_ROWS)

    # --- faults and recovery --------------------------------------------------------------

    def _failed(self, error: JournalError) -> ev.JournalFailed | None:
        """Enter (or stay) out of service; the event for the core the first time only."""
        if self.fault is not None:
            return None
        self.fault = JournalFault(error.cause, str(error), self.clock())
        self._next_probe = self.clock() + PROBE_EVERY_S
        # The error says the cause and what to do (kiosk.sqlite_faults.describe).
        log.error("out of service: %s", error)
        if error.cause == "full" and reserve.release(self.config.data_dir):
            log.warning("%s: released the journal's reserve to record this",
                        self.config.data_dir)
            if self.journal is None:  # it could not even be opened: on the reserve it can
                try:
                    self.journal = self._opener(self.config)
                except JournalError as again:
                    log.info("the journal cannot be opened on the reserve either: %s", again)
        self._note_service("out_of_service", {"cause": error.cause})
        return ev.JournalFailed(error.cause, str(error))

    def _try_again(self) -> ev.JournalRestored | None:
        fault = self.fault
        assert fault is not None
        if fault.cause == "full" and not self._room_again():
            return None
        written = 0
        try:
            if self.journal is None:
                self.journal = self._opener(self.config)
            else:
                self.journal.probe()
            while self._held:  # oldest first; each leaves the list once it is on disk
                held = self._held[0]
                self._write(self.journal, held.row,
                            {**held.row.detail, "written_late": held.at_utc})
                self._held.pop(0)
                written += 1
        except JournalError as e:
            if e.cause != fault.cause:
                log.error("out of service: still, now because %s", e)
                self.fault = JournalFault(e.cause, str(e), fault.since)
            return None
        seconds = round(self.clock() - fault.since, 1)
        self.fault = None
        self._note_service("restored", {"cause": fault.cause, "seconds": seconds,
                                        "rows_written_late": written})
        self._ensure_reserve()
        self._next_check = self.clock() + CHECK_EVERY_S
        log.warning("back in service after %.0f s out (%s); %d rows written late", seconds,
                    fault.cause, written)
        return ev.JournalRestored(seconds)

    def _note_service(self, outcome: str, detail: dict[str, Any]) -> None:
        """A `service` row, when the journal takes it (after a fault it may not)."""
        if self.journal is None:
            return
        try:
            self.journal.append("service", outcome, detail=detail)
        except JournalError as e:
            log.info("the %s row could not be journaled either: %s", outcome, e)

    def _ensure_reserve(self) -> None:
        if self._reserve_bytes and not reserve.ensure(self.config.data_dir, self._reserve_bytes):
            log.warning("%s: no room for the journal's reserve of %d MB (%s)",
                        self.config.data_dir, self.config.journal.reserve_mb,
                        _free_text(self.config.data_dir))

    # Free space from statvfs alone: these run every few seconds, and `system.disk_state` would
    # also write a probe file each time.
    def _partition_full(self) -> bool:
        usage = system.disk_free(self.config.data_dir)
        return usage is not None and usage[0] < system.FULL_BYTES

    def _room_again(self) -> bool:
        """Room for the reserve and more: a partition that was full is usable again."""
        usage = system.disk_free(self.config.data_dir)
        kept = reserve.size(self.config.data_dir)
        return usage is None or usage[0] + kept >= system.FULL_BYTES + self._reserve_bytes

    # --- intents left open ---------------------------------------------------------------

    def open_intents(self) -> list[Row]:
        """Intent rows with no outcome, those in flight now left out: what a crash or a lost
        reply left for reconciling. Empty while out of service."""
        if self.fault is not None or self.journal is None:
            return []
        in_flight = set(self._intents.values())
        try:
            return [row for row in self.journal.open_intents() if row.seq not in in_flight]
        except JournalError as e:
            log.error("open intents unreadable: %s", e)
            return []

    def settle(self, seq: int, operation: str, outcome: str, *, item: str,
               detail: dict[str, Any]) -> ev.JournalFailed | None:
        """Journal what the ILS says became of the intent `seq` (a reconciliation)."""
        if self.fault is not None or self.journal is None:
            return None  # it stays open and is asked about again later
        try:
            self.journal.append(operation, outcome, item=item, detail=detail, intent=seq)
        except IntentNotOpen:  # settled meanwhile (staff and the reconciler, say): fine
            log.info("intent %d was settled already; %s not journaled", seq, outcome)
        except JournalError as e:
            return self._failed(e)
        return None

    def settle_by_staff(self, seq: int) -> ev.JournalFailed | None:
        """Staff put right a transaction whose result was not known: its intent is settled."""
        intent = next((row for row in self.open_intents() if row.seq == seq), None)
        if intent is None:
            log.info("intent %d is not open any more", seq)
            return None
        return self.settle(seq, intent.outcome, "checked_by_staff", item=intent.item or "",
                           detail={})

    # --- reading for others ---------------------------------------------------------------

    def view_counts(self) -> dict[str, int]:
        """E-book views per title ("most popular here"); none when the journal cannot say."""
        if self.journal is None:
            return {}
        try:
            return self.journal.counts_by_item("ebook_view")
        except JournalError as e:
            log.error("e-book view counts unreadable: %s", e)
            return {}

    def close(self) -> None:
        if self._held:
            log.error("stopping with %d journal rows not written (out of service: %s)",
                      len(self._held), self.fault.cause if self.fault else "?")
        if self.journal is not None:
            self.journal.close()


def _open_journal(config: Config) -> Journal:
    return Journal.open(config.journal_path, config.patron_key_path)


def _free_text(folder: Path) -> str:
    usage = system.disk_free(folder)
    return "free space unknown" if usage is None else f"{size_text(usage[0])} free"
