"""While the ILS is away: with `[circulation] offline = true` a checkout or checkin goes to the
offline store instead, within its limits (per patron, in all) and only for what may be lent
offline; the link's state as the ILS worker reports it; and the replays journaled when it is
back. Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

import logging

from common.masking import mask_numbers_in
from kiosk.core import events as ev
from kiosk.core.circulation_state import CirculationState, Job
from kiosk.core.circulation_view import Line
from kiosk.core.flow_port import Effects, Handlers
from kiosk.core.offline_rules import lendable_offline
from kiosk.core.outcomes import LineStatus, Reason, Transaction
from kiosk.core.security import Security

log = logging.getLogger(__name__)


class Offline:
    """Accepts transactions offline, within limits; follows the ILS link and the replays."""

    def __init__(self, state: CirculationState, security: Security) -> None:
        self.state = state
        self.security = security

    def handlers(self) -> Handlers:
        return {ev.OfflineCounts: self._on_OfflineCounts,
                ev.OfflineRecorded: self._on_OfflineRecorded,
                ev.OfflineReplayed: self._on_OfflineReplayed, ev.IlsState: self._on_IlsState}

    def accept(self, job: Job, effects: Effects) -> None:
        """The ILS could not be reached for `job`: keep it offline if allowed (asking the store
        for its counts first when they are not known), else refuse it."""
        if not self.state.circ.offline:
            self.state.finish(job, Reason.ILS_UNAVAILABLE, effects)
            return
        if job.kind is Transaction.CHECKOUT and not lendable_offline(job.item_id, job.usage,
                                                           self.state.circ.offline_refuse):
            self.state.finish(job, Reason.OFFLINE_NOT_LENDABLE, effects)  # its alarm stays armed
            return
        who = job.patron_id if job.kind is Transaction.CHECKOUT else None
        total = self.state.offline_total
        if total is None or (who is not None and who not in self.state.offline_patron):
            job.waiting_counts = True
            self.state.waiting.append(job)
            if who not in self.state.counts_asked:
                self.state.counts_asked.add(who)
                effects.append(ev.CountOffline(who))
            return
        if total >= self.state.circ.offline_max_total or (
                who is not None
                and self.state.offline_patron[who] >= self.state.circ.offline_max_items):
            self.state.finish(job, Reason.OFFLINE_LIMIT, effects)
            return
        # Reserved now, so that books placed together cannot pass the limit together.
        self.state.offline_total = total + 1
        if who is not None:
            self.state.offline_patron[who] += 1
        token = next(self.state.tokens)
        self.state.recording[token] = job
        effects.append(ev.OfflineRecord(job.kind, job.patron_id, job.item_id, token))

    def _on_OfflineCounts(self, event: ev.OfflineCounts, now: float, effects: Effects) -> None:
        self.state.counts_asked.discard(event.patron_id)
        self.state.offline_total = event.total_pending
        if event.patron_id is not None:
            self.state.offline_patron[event.patron_id] = event.patron_pending
        waiting, self.state.waiting = self.state.waiting, []
        for job in waiting:
            job.waiting_counts = False
            self.accept(job, effects)
        self.state.publish()

    def _on_OfflineRecorded(self, event: ev.OfflineRecorded, now: float, effects: Effects) -> None:
        job = self.state.recording.pop(event.token, None)
        if job is None:
            return
        if not event.ok:
            log.error("offline %s of %s not recorded: %s", job.kind, job.item_id, event.error)
            self.state.offline_total = None  # ask again: the store may not have it
            self.state.offline_patron.clear()
            self.state.finish(job, event.reason or Reason.OFFLINE_FAILED, effects)
        else:
            job.offline = True
            job.line = Line(job.item_id, job.item_id, job.title, LineStatus.OFFLINE)
            self.security.secure(job, True, effects)
        self.state.publish()

    def _on_OfflineReplayed(self, event: ev.OfflineReplayed, now: float, effects: Effects) -> None:
        detail = {"kind": event.kind}
        if event.message:
            detail["message"] = mask_numbers_in(event.message)[:200]
        effects.append(ev.JournalAppend("offline_replay", event.outcome, item=event.item_id,
                                        title=event.title or None, patron=event.patron_id,
                                        detail=detail))

    def _on_IlsState(self, event: ev.IlsState, now: float, effects: Effects) -> None:
        if event.online != self.state.ils_online:
            log.info("the ILS is %s%s", "back" if event.online else "away",
                     f": {event.detail}" if event.detail else "")
        self.state.ils_online = event.online
        self.state.publish()
