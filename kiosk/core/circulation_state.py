"""The circulation's shared state and ledger: the patron at the screen, the transactions in
flight, the pad as last seen, the ILS link and the offline counts; and the few moves every part
of the flow makes on it (ask the ILS, journal an intent, finish a transaction, publish the view).

The parts (identification, pad, transactions, security, offline, account, finishing) each own
one job and share this one object; `kiosk.core.circulation` builds them and routes events.
Pure, like the whole core: no I/O, no threads.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Callable, TypeVar

from common.masking import mask_numbers_in
from drivers.events import ItemSet, Tag
from kiosk.core import events as ev
from kiosk.core.circulation_text import REFUSALS
from kiosk.core.circulation_view import (
    CirculationSettings,
    CirculationView,
    Line,
    PatronView,
    ReceiptView,
)
from kiosk.core.events import Screen
from kiosk.core.flow_port import Effects, SessionPort
from kiosk.core.ils_calls import IlsRequest
from kiosk.core.outcomes import (
    IdentifyMessage,
    LineStatus,
    NextAction,
    Outcome,
    Reason,
    Service,
    Step,
    Transaction,
    TransactionOutcome,
)
from kiosk.core.session_view import View

_R = TypeVar("_R")


@dataclass
class Job:
    """One transaction in flight (checkout, checkin, renew), outliving its session if need be."""
    kind: Transaction
    item_id: str
    patron_id: str | None
    flow_no: int
    title: str = ""
    device: str = ""
    uids: tuple[str, ...] = ()
    usage: str | None = None
    pending: set[str] = field(default_factory=set)  # tags whose security is being changed
    security_failed: bool = False
    offline: bool = False
    waiting_counts: bool = False
    line: Line | None = None  # what the line will show once done
    message: str = ""
    intent: int | None = None  # the key of its JournalIntent, once one was asked for


@dataclass
class PatronFlow:
    """What is known of the patron at the screen; forgotten when the session ends."""
    purpose: Screen = Screen.BORROW
    step: Step = Step.CARD
    message: IdentifyMessage | None = None
    patron_id: str | None = None
    physical_card: bool = False  # shown a card (not an e-card, not typed): "take your card"
    pin: str | None = None
    patron: PatronView | None = None
    charged: tuple[str, ...] = ()
    overdue_ids: tuple[str, ...] = ()
    pin_failures: int = 0
    lines: dict[str, Line] = field(default_factory=dict)
    loading: bool = False
    receipt: ReceiptView | None = None


class Asked(StrEnum):
    """What an ILS call was for, so that its answer goes to the part that asked."""
    PATRON = "patron"  # identifying the patron at the screen
    LOANS = "loans"  # the account's loans
    LOAN = "loan"  # one loan's title and due date
    END_SESSION = "end_session"
    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    WHY = "why"  # the item the ILS refused, to say why
    TITLE = "title"  # a book shown before any transaction (a part missing): its title
    RENEW = "renew"
    HOLDS = "holds"  # the holds ready for the patron
    HOLD = "hold"  # one hold's title


@dataclass(frozen=True)
class FlowCall:
    """A call about the patron's session `flow_no` (an answer for an older one is dropped)."""
    asked: Asked
    flow_no: int
    item_id: str = ""  # a loan's, for LOAN


@dataclass(frozen=True)
class JobCall:
    """A call about a transaction, which is answered even after its session ended."""
    asked: Asked
    job: Job


class CirculationState:
    def __init__(self, session: SessionPort, wall: Callable[[], datetime]) -> None:
        """`wall` gives local time for receipts."""
        self.session = session
        self.wall = wall
        self.tokens = itertools.count(1)
        self.flow = PatronFlow()
        self.flow_no = 0  # which patron's session: an answer for an older one came too late
        self.calls: dict[int, FlowCall | JobCall] = {}  # IlsCall token -> what it was for
        self.securing: dict[int, Job] = {}  # SetSecurity token -> its job
        self.recording: dict[int, Job] = {}  # OfflineRecord token -> its job
        self.pad_tags: tuple[Tag, ...] = ()
        self.pad_sets: tuple[ItemSet, ...] = ()
        self.pad_source = ""
        self.pad_cards: set[str] = set()
        self.stale: set[str] = set()  # tags left on the pad by the last patron
        self.told_left = False  # this session was told of them
        self.titles_asked: set[str] = set()  # items looked up for their title this session
        self.ils_online: bool | None = None
        self.offline_total: int | None = None
        self.offline_patron: dict[str, int] = {}
        self.counts_asked: set[str | None] = set()
        self.waiting: list[Job] = []  # offline jobs waiting for the store's counts

    @property
    def view(self) -> View:
        return self.session.view

    @view.setter
    def view(self, view: View) -> None:
        self.session.view = view

    @property
    def circ(self) -> CirculationSettings:
        return self.session.settings.circulation

    def call_for_flow(self, effects: Effects, asked: Asked, request: IlsRequest, *,
                      item_id: str = "") -> None:
        token = next(self.tokens)
        self.calls[token] = FlowCall(asked, self.flow_no, item_id)
        effects.append(ev.IlsCall(token, request))

    def call_for_job(self, effects: Effects, asked: Asked, job: Job, request: IlsRequest, *,
                     intent: int | None = None) -> None:
        token = next(self.tokens)
        self.calls[token] = JobCall(asked, job)
        effects.append(ev.IlsCall(token, request, intent=intent))

    def intent(self, job: Job, effects: Effects, detail: dict[str, Any] | None = None) -> int:
        """Journal, before the call, that `job` is about to go to the ILS: a crash after the
        ILS acted still leaves a trace to reconcile at the next start."""
        job.intent = next(self.tokens)
        effects.append(ev.JournalIntent(job.intent, job.kind, job.item_id, job.patron_id,
                                        detail or {}))
        return job.intent

    def finish(self, job: Job, outcome: TransactionOutcome, effects: Effects) -> None:
        """The journal row first, then the line the patron sees."""
        detail: dict[str, Any] = {}
        if job.offline:
            detail["offline"] = True
        if job.message and not isinstance(outcome, Outcome):
            detail["message"] = mask_numbers_in(job.message)[:200]
        if job.line is not None and job.line.renewal:
            detail["renewal"] = True
        if job.flow_no != self.flow_no:
            detail["after_session"] = True  # the patron had gone; staff may need to look
        # An unknown result leaves the intent open: it is reconciled with the ILS later.
        effects.append(ev.JournalAppend(job.kind, outcome, item=job.item_id,
                                        title=job.title or None, patron=job.patron_id,
                                        detail=detail, intent=job.intent,
                                        settles=outcome != Reason.UNKNOWN))
        if job.flow_no != self.flow_no:
            return
        base = job.line or Line(job.item_id, job.item_id, job.title)
        lent = outcome in (Outcome.OK, Reason.SECURITY_FAILED) and not base.renewal
        if job.kind is Transaction.CHECKOUT and lent and self.flow.patron is not None:
            self.flow.patron = self.flow.patron.lent(job.item_id)  # the summary counts it
        if outcome is Outcome.OK:
            line = replace(base, title=job.title, status=LineStatus.OK)
        elif outcome is Outcome.OFFLINE:
            line = replace(base, title=job.title, status=LineStatus.OFFLINE, due="")
        elif outcome in (Reason.SECURITY_FAILED, Reason.OFFLINE_FAILED, Reason.UNKNOWN):
            line = replace(base, title=job.title, status=LineStatus.STAFF, reason=outcome,
                           action=self.next_action(outcome))
        else:
            line = replace(base, title=job.title, status=LineStatus.REFUSED, reason=outcome,
                           message=job.message, action=self.next_action(outcome))
        self.flow.lines[job.item_id] = line
        if line.reason is not None:
            self.tell_refused(line, effects)

    def next_action(self, reason: Reason) -> NextAction:
        """The one thing the patron is asked to do about a book refused for `reason`."""
        if reason is Reason.OWN_LOAN:
            patron = self.flow.patron
            return NextAction.RENEW if patron is not None and patron.can_renew \
                else NextAction.NONE
        return REFUSALS[reason].action

    def tell_refused(self, line: Line, effects: Effects) -> None:
        """One `BookRefused` per book refused, for the sound and voice."""
        if line.reason is not None:
            effects.append(ev.BookRefused(line.item_id, line.title, line.reason,
                                          line.action or self.next_action(line.reason)))

    def journal_standing(self, effects: Effects) -> None:
        """Refusals that could still change (a missing part, a tag not yet read) are journaled
        when the patron leaves them, not each time the pad flickers."""
        kind = (Transaction.CHECKIN if self.view.screen is Screen.RETURN
                else Transaction.CHECKOUT)
        for line in self.flow.lines.values():
            if line.reason in (Reason.INCOMPLETE_SET, Reason.UNREADABLE_TAG):
                effects.append(ev.JournalAppend(kind, line.reason, item=line.item_id or None,
                                                patron=self.flow.patron_id))

    def left_on_pad(self) -> int:
        """Items the last patron left on the pad (still lying there, not placed again)."""
        return len({tag.item_id or tag.uid for tag in self.pad_tags if tag.uid in self.stale})

    def publish(self) -> None:
        flow, circ = self.flow, self.circ
        if not circ.ils:
            service = Service.NOT_SET_UP
        elif self.ils_online is False:
            service = Service.OFFLINE if circ.offline else Service.UNAVAILABLE
        else:
            service = Service.OK
        view = CirculationView(purpose=flow.purpose, step=flow.step, message=flow.message,
                               patron=flow.patron, lines=tuple(flow.lines.values()),
                               service=service, loading=flow.loading, receipt=flow.receipt,
                               left_on_pad=self.left_on_pad(), card_length=circ.card_length)
        if view != self.view.circulation:
            self.view = replace(self.view, circulation=view)


def answer_of(answer: ev.IlsAnswered, kind: type[_R] | tuple[type[_R], ...]) -> _R | None:
    """The ILS's result when the call went through and it is of the kind asked for, else None
    (offline, an error, or a reply that does not fit: all read as no answer)."""
    result = answer.result
    if answer.error or answer.offline or not isinstance(result, kind):
        return None
    return result
