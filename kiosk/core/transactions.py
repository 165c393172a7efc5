"""The ILS's answer to a checkout or checkin: yes (on to the alarm), no (then the item is looked
up to say why in words), offline (on to the offline store), unknown (staff look it up), or an
answer that came after the patron left (journaled; the tags are left alone).
Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

import logging

from kiosk.core import events as ev
from kiosk.core.circulation_state import Asked, CirculationState, Job, answer_of
from kiosk.core.circulation_view import Line
from kiosk.core.flow_port import Effects
from kiosk.core.ils_calls import CheckinReply, CheckoutReply, ItemRecord, LookUpItem, due_text
from kiosk.core.offline import Offline
from kiosk.core.outcomes import (
    LineStatus,
    Outcome,
    Reason,
    Transaction,
    TransactionOutcome,
)
from kiosk.core.security import Security

log = logging.getLogger(__name__)

# Refusals about the item itself, not the patron: remembered so that it is not lent offline.
ITEM_REFUSALS = frozenset({Reason.ON_HOLD, Reason.NOT_FOR_LOAN, Reason.UNKNOWN_ITEM,
                           Reason.ON_LOAN})


class Transactions:
    """What becomes of a checkout or checkin once the ILS answered."""

    def __init__(self, state: CirculationState, security: Security, offline: Offline) -> None:
        self.state = state
        self.security = security
        self.offline = offline

    def answered(self, job: Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        if job.flow_no != self.state.flow_no:
            self._answered_too_late(job, answer, effects)
            return
        if answer.offline:
            self.offline.accept(job, effects)
            return
        if answer.unknown:
            self.state.finish(job, Reason.UNKNOWN, effects)
            return
        result = self._reply(job, answer)
        if result is None:
            log.warning("%s of %s failed: %s", job.kind, job.item_id, answer.error)
            self.state.finish(job, Reason.ILS_ERROR, effects)
            return
        job.title = result.title or job.title
        job.message = " ".join(result.screen_message)
        if not result.ok:
            # Ask what the item is, to tell the patron why in words (on hold, unknown...).
            self.state.call_for_job(effects, Asked.WHY, job, LookUpItem(job.item_id))
            return
        if isinstance(result, CheckoutReply):
            job.line = Line(job.item_id, job.item_id, job.title, LineStatus.OK,
                            due=due_text(result.due_date, result.due),
                            renewal=bool(result.renewal))
            change = result.desensitize is not False
        else:
            job.line = Line(job.item_id, job.item_id, job.title, LineStatus.OK,
                            sort_bin=result.sort_bin or "", alert=bool(result.alert))
            change = result.resensitize is not False
        self.security.secure(job, change, effects)

    def _answered_too_late(self, job: Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        """The patron has gone: journal what the ILS did, and leave the tags alone (nobody
        is there to take the book, so its alarm stays as it is)."""
        result = self._reply(job, answer)
        outcome: TransactionOutcome
        if answer.offline:
            outcome = Reason.ILS_UNAVAILABLE
        elif answer.unknown:
            outcome = Reason.UNKNOWN
        elif result is None:
            outcome = Reason.ILS_ERROR
        else:
            job.title = result.title or job.title
            outcome = Outcome.OK if result.ok else Reason.ILS_REFUSED
        self.state.finish(job, outcome, effects)

    @staticmethod
    def _reply(job: Job, answer: ev.IlsAnswered) -> CheckoutReply | CheckinReply | None:
        if job.kind is Transaction.CHECKOUT:
            return answer_of(answer, CheckoutReply)
        return answer_of(answer, CheckinReply)

    def refusal_explained(self, job: Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        item = answer_of(answer, ItemRecord)
        if item is not None:
            job.title = job.title or item.title or ""
        reason = refusal_reason(item, job.usage, job.kind)
        if reason is Reason.ON_LOAN and job.flow_no == self.state.flow_no \
                and job.item_id in self.state.flow.charged:
            # Theirs already: renewing is what they can do here.
            reason = Reason.OWN_LOAN
            job.line = Line(job.item_id, job.item_id, job.title,
                            due=due_text(None, item.due) if item else "")
        if job.kind is Transaction.CHECKOUT and reason in ITEM_REFUSALS:
            effects.append(ev.RememberRefusal(job.item_id, reason))
        self.state.finish(job, reason, effects)


def refusal_reason(item: ItemRecord | None, usage: str | None,
                   kind: Transaction) -> Reason:
    """Why the ILS said no, from what it says of the item (None: it said nothing)."""
    if usage == "not_for_circulation":
        return Reason.NOT_FOR_LOAN
    if item is None:
        return Reason.ILS_REFUSED
    if not item.title:
        return Reason.UNKNOWN_ITEM
    if kind is Transaction.CHECKOUT:
        if item.circulation in ("waiting_on_hold_shelf", "recalled") or (item.hold_queue or 0) > 0:
            return Reason.ON_HOLD
        if item.circulation in ("charged", "charged_recall"):
            return Reason.ON_LOAN
    return Reason.ILS_REFUSED
