"""Borrow, return, renew: who the patron is, one line per book, the receipt; their journal rows.

A flow object of `Session` (same rules: pure, the clock passed in, no I/O, no threads). The outside
is asked through effects that carry a token (`IlsCall` with a `kiosk.core.ils_calls` request,
`SetSecurity`, `OfflineRecord`, `CountOffline`, `PrintReceipt`) and answers with events carrying
it back; the ILS's answers are the core's own result types: this module never imports
`kiosk.sip2`.

A book's journey: the ILS says yes -> its security is changed on every part's tag and read back
-> only then the line shows it done and the journal row is written. Offline (the ILS away and
`[circulation] offline = true`) the offline store's yes takes the ILS's place, within limits.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Callable, TypeVar

from drivers.events import BarcodeRead, CardRead, ItemSet, Tag, TagsSeen
from kiosk import receipts
from kiosk.core import events as ev
from kiosk.core.events import CIRCULATION, EBOOK_SCREENS, Screen
from kiosk.core.flow_port import Effects, Flow, Handlers, SessionPort
from kiosk.core.ils_calls import (CheckIn, CheckinReply, CheckOut, CheckoutReply, EndPatronSession,
                                  IlsRequest, ItemRecord, LookUpItem, LookUpPatron, PatronRecord,
                                  RenewLoan, RenewReply)
from kiosk.core.circulation_view import (CirculationSettings, CirculationView, Line, PatronView,
                                         ReceiptView)
from kiosk.core.offline_rules import lendable_offline
from kiosk.core.outcomes import LineStatus, Outcome, Reason, Step, TransactionOutcome
from kiosk.core.privacy import mask, mask_numbers_in

log = logging.getLogger(__name__)
_R = TypeVar("_R")

MAX_CARD_DIGITS = 20
# Refusals about the item itself, not the patron: remembered so that it is not lent offline.
ITEM_REFUSALS = frozenset({Reason.ON_HOLD, Reason.NOT_FOR_LOAN, Reason.UNKNOWN_ITEM,
                           Reason.ON_LOAN})
_FLOW_NAMES = {Screen.BORROW: "borrow", Screen.RETURN: "return", Screen.ACCOUNT: "account"}


@dataclass
class _Job:
    """One transaction in flight (checkout, checkin, renew), outliving its session if need be."""
    kind: str
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
class _Flow:
    """What is known of the patron at the screen; forgotten when the session ends."""
    purpose: Screen = Screen.BORROW
    step: Step = Step.CARD
    message: str | None = None
    patron_id: str | None = None
    pin: str | None = None
    patron: PatronView | None = None
    charged: tuple[str, ...] = ()
    overdue_ids: tuple[str, ...] = ()
    pin_failures: int = 0
    lines: dict[str, Line] = field(default_factory=dict)
    loading: bool = False
    receipt: ReceiptView | None = None


class CirculationFlow(Flow):
    """Handlers for the circulation events; the session moves it in and out of its screens
    (`enter`, `may_leave`, `leave_to_home`, `end_session`) and has it `publish` its view."""

    def __init__(self, session: SessionPort, wall: Callable[[], datetime]) -> None:
        """`wall` gives local time for receipts."""
        super().__init__(session)
        self._wall = wall
        self._tokens = itertools.count(1)
        self._flow = _Flow()
        self._flow_no = 0
        self._calls: dict[int, tuple[str, Any]] = {}  # token -> (what, job or flow number)
        self._security: dict[int, _Job] = {}
        self._records: dict[int, _Job] = {}
        self._pad_tags: tuple[Tag, ...] = ()
        self._pad_sets: tuple[ItemSet, ...] = ()
        self._pad_source = ""
        self._pad_cards: set[str] = set()
        self._stale: set[str] = set()  # tags left on the pad by the last patron
        self._ils_online: bool | None = None
        self._offline_total: int | None = None
        self._offline_patron: dict[str, int] = {}
        self._counts_asked: set[str | None] = set()
        self._waiting: list[_Job] = []

    @property
    def pad_uids(self) -> frozenset[str]:
        """The tags on the pad as last reported (patron cards included)."""
        return frozenset(tag.uid for tag in self._pad_tags) | self._pad_cards

    def handlers(self) -> Handlers:
        return {
            ev.CardNumberTyped: self._on_CardNumberTyped,
            ev.PatronPinTyped: self._on_PatronPinTyped,
            BarcodeRead: self._on_BarcodeRead, CardRead: self._on_CardRead,
            TagsSeen: self._on_TagsSeen, ev.IlsAnswered: self._on_IlsAnswered,
            ev.SecurityDone: self._on_SecurityDone, ev.OfflineCounts: self._on_OfflineCounts,
            ev.OfflineRecorded: self._on_OfflineRecorded,
            ev.OfflineReplayed: self._on_OfflineReplayed, ev.IlsState: self._on_IlsState,
            ev.Renew: self._on_Renew, ev.FinishFlow: self._on_FinishFlow,
            ev.PrintRequested: self._on_PrintRequested, ev.ReceiptPrinted: self._on_ReceiptPrinted,
        }

    @property
    def _circ(self) -> CirculationSettings:
        return self.settings.circulation

    # --- moving in and out of the circulation screens (called by Session) --------------

    def enter(self, to: Screen, now: float, effects: Effects) -> None:
        flow = self._flow
        flow.lines, flow.receipt, flow.message = {}, None, None
        if to is Screen.RETURN or flow.patron is not None:
            self.view = replace(self.view, screen=to, notice=None)
            if to is Screen.ACCOUNT:
                self._load_account(effects)
            else:
                self._take_pad(now, effects)
        else:
            flow.purpose, flow.step = to, Step.CARD
            self.view = replace(self.view, screen=Screen.IDENTIFY, notice=None)
            if not self._circ.ils:
                flow.message = "not_set_up"
        self.publish()

    def may_leave(self) -> bool:
        return self.view.circulation.may_leave

    def leave_to_home(self, effects: Effects) -> None:
        """Back to home from a flow screen: its lines go, the patron stays."""
        self._journal_standing(effects)
        flow = self._flow
        flow.lines, flow.receipt, flow.message = {}, None, None
        if flow.patron is None:
            flow.patron_id, flow.pin, flow.step, flow.pin_failures = None, None, Step.CARD, 0
        self.publish()

    def end_session(self, effects: Effects) -> None:
        """The session ends: tell the ILS, journal what was left standing, forget the patron."""
        self._journal_standing(effects)
        flow = self._flow
        if flow.patron is not None and flow.patron.checked and self._ils_online is not False:
            self._call(effects, "end_session", None, EndPatronSession(flow.patron_id))
        self._flow = _Flow()
        self._flow_no += 1
        # Books left lying on the pad are the last patron's: the next one must lift and place
        # them again to have them count, so nobody borrows or returns what they did not bring.
        self._stale = {tag.uid for tag in self._pad_tags}
        self._offline_total = None  # replays may have settled some by the next patron
        self._offline_patron.clear()
        self._counts_asked.clear()
        waiting, self._waiting = self._waiting, []
        for job in waiting:  # the ILS was away and the patron left before the store answered
            self._finish(job, Reason.ILS_UNAVAILABLE, effects)

    def _journal_standing(self, effects: Effects) -> None:
        """Refusals that could still change (a missing part, a tag not yet read) are journaled
        when the patron leaves them, not each time the pad flickers."""
        kind = "checkin" if self.view.screen is Screen.RETURN else "checkout"
        for line in self._flow.lines.values():
            if line.reason in (Reason.INCOMPLETE_SET, Reason.UNREADABLE_TAG):
                effects.append(ev.JournalAppend(kind, line.reason, item=line.item_id or None,
                                                patron=self._flow.patron_id))

    # --- identifying the patron ----------------------------------------------------------

    def _on_CardNumberTyped(self, event: ev.CardNumberTyped, now: float, effects: Effects) -> None:
        number = event.number.strip()
        if self.view.screen is Screen.IDENTIFY and number.isdigit() and \
                len(number) <= MAX_CARD_DIGITS and self._flow.step is Step.CARD:
            self._identify(number, now, effects)

    def _on_PatronPinTyped(self, event: ev.PatronPinTyped, now: float, effects: Effects) -> None:
        flow = self._flow
        if self.view.screen is Screen.IDENTIFY and flow.step is Step.PIN and event.pin:
            flow.pin, flow.step, flow.message = event.pin, Step.CHECKING, None
            self._call(effects, "patron", None, LookUpPatron(flow.patron_id, event.pin))
            self.publish()

    def _card_presented(self, number: str, now: float, effects: Effects) -> None:
        screen = self.view.screen
        if screen is Screen.ATTRACT:
            self._session.open_session(now)
            screen = Screen.HOME
        if screen in (Screen.HOME, Screen.IDENTIFY):
            if screen is Screen.HOME:
                self._flow.purpose = Screen.BORROW
            if self._flow.step is not Step.CHECKING:
                self._identify(number, now, effects)
        elif screen is Screen.RETURN:
            self._session.acknowledge(now, "no_card_needed", {})
        elif screen in (Screen.BORROW, Screen.ACCOUNT) and number == self._flow.patron_id:
            pass  # the same card again
        else:
            self._session.acknowledge(now, "finish_first", {})

    def _identify(self, number: str, now: float, effects: Effects) -> None:
        flow = self._flow
        flow.patron_id, flow.pin, flow.patron, flow.message = number, None, None, None
        flow.pin_failures = 0
        self.view = replace(self.view, screen=Screen.IDENTIFY, notice=None)
        if not self._circ.ils:
            flow.message, flow.step = "not_set_up", Step.CARD
        elif self._circ.pin == "yes":
            flow.step = Step.PIN
        else:
            flow.step = Step.CHECKING
            self._call(effects, "patron", None, LookUpPatron(number))
        self.publish()

    def _patron_answered(self, answer: ev.IlsAnswered, now: float, effects: Effects) -> None:
        flow = self._flow
        if answer.offline:
            if self._circ.offline and flow.purpose is Screen.BORROW:
                self._accept_patron(PatronView(mask(flow.patron_id), checked=False), (), (),
                                    now, effects)
            else:
                self._identify_failed("unavailable")
            return
        info = _result(answer, PatronRecord)
        if info is None:
            log.warning("patron information failed: %s", answer.error)
            self._identify_failed("ils_error")
        elif info.valid is False:
            self._identify_failed("unknown_card")
        elif self._circ.pin != "no" and (info.pin_ok is False or (
                info.pin_ok is None and flow.pin is None)):
            # A missing CQ says nothing (some ILSs report it only when asked with a PIN): a
            # patron is taken without a PIN only when the ILS said so, or with pin = "no".
            if flow.pin is None:
                flow.step, flow.message = Step.PIN, None
            else:
                flow.pin_failures += 1
                flow.pin = None
                if flow.pin_failures >= self._circ.pin_attempts:
                    self._identify_failed("pin_locked")
                else:
                    flow.step, flow.message = Step.PIN, "wrong_pin"
        else:
            patron = PatronView(
                masked=mask(flow.patron_id), name=info.name or "",
                charged=max(info.charged_count or 0, len(info.charged)),
                overdue=max(info.overdue_count or 0, len(info.overdue)),
                holds_ready=max(info.hold_count or 0, len(info.holds_ready)),
                fines=info.fines or "", currency=info.currency or "", blocks=tuple(info.blocks))
            self._accept_patron(patron, tuple(info.charged), tuple(info.overdue), now, effects)

    def _identify_failed(self, message: str) -> None:
        flow = self._flow
        flow.step, flow.message = Step.CARD, message
        flow.patron_id, flow.pin, flow.pin_failures = None, None, 0

    def _accept_patron(self, patron: PatronView, charged: tuple[str, ...],
                       overdue: tuple[str, ...], now: float, effects: Effects) -> None:
        flow = self._flow
        flow.patron, flow.charged, flow.overdue_ids = patron, charged, overdue
        flow.step, flow.message = Step.CARD, None
        self.view = replace(self.view, screen=flow.purpose)
        if flow.purpose is Screen.BORROW:
            self._take_pad(now, effects)
        elif flow.purpose is Screen.ACCOUNT:
            self._show_loans(effects)

    # --- books presented -----------------------------------------------------------------

    def _on_BarcodeRead(self, event: BarcodeRead, now: float, effects: Effects) -> None:
        if event.kind == "patron":
            self._card_presented(event.data, now, effects)
        elif event.kind == "ecard":
            number = next((event.data[len(p):] for p in self._circ.ecard_prefixes
                           if event.data.startswith(p)), event.data).strip()
            self._card_presented(number, now, effects)
        elif event.kind == "item":
            self._item_presented(event.data, (), None, now, effects)
        elif event.kind == "isbn":
            self._session.acknowledge(now, "scan_isbn", {})  # a title's number, not this copy's
        else:
            self._session.acknowledge(now, "scan_unknown", {})
        self.publish()

    def _on_CardRead(self, event: CardRead, now: float, effects: Effects) -> None:
        self._card_presented(event.data.strip(), now, effects)
        self.publish()

    def _on_TagsSeen(self, event: TagsSeen, now: float, effects: Effects) -> None:
        cards = {t.uid: t.item_id for t in event.tags if t.usage == "patron_card" and t.item_id}
        self._pad_tags = tuple(t for t in event.tags if t.uid not in cards)
        self._stale &= {t.uid for t in event.tags}
        self._pad_sets = tuple(s for s in event.sets if s.item_id not in cards.values())
        self._pad_source = event.source
        for uid, number in cards.items():
            if uid not in self._pad_cards:  # a card left lying there is presented once
                self._card_presented(number, now, effects)
        self._pad_cards = set(cards)
        if self._pad_tags:
            self._pad_changed(now, effects)
        self.publish()

    def _pad_changed(self, now: float, effects: Effects) -> None:
        screen = self.view.screen
        if screen is Screen.RETURN or (screen is Screen.BORROW and self._flow.patron):
            self._take_pad(now, effects)
            return
        unreadable = sum(1 for tag in self._pad_tags if tag.item_id is None or tag.error)
        missing = sum(1 for item in self._pad_sets if not item.complete)
        if unreadable:
            self._session.acknowledge(now, "tags_unreadable", {"count": str(unreadable)})
        elif missing:
            self._session.acknowledge(now, "tags_incomplete", {"count": str(missing)})
        elif screen in (Screen.ATTRACT, Screen.HOME, *EBOOK_SCREENS):
            self._session.acknowledge(now, "tags_seen", {"count": str(len(self._pad_sets))})
        elif screen is Screen.IDENTIFY:
            self._session.acknowledge(now, "card_first", {})

    def _take_pad(self, now: float, effects: Effects) -> None:
        """Every complete item on the pad not yet on the screen becomes a line."""
        if not self._circ.ils:
            return  # the screen says the service is not set up here
        lines = self._flow.lines
        for item in self._pad_sets:
            line = lines.get(item.item_id)
            if line is not None and line.reason is not Reason.INCOMPLETE_SET:
                continue
            parts = [t for t in self._pad_tags if t.item_id == item.item_id and not t.error]
            if parts and all(t.uid in self._stale for t in parts):
                continue
            if not item.complete:
                lines[item.item_id] = Line(item.item_id, item.item_id, status=LineStatus.REFUSED,
                                           reason=Reason.INCOMPLETE_SET)
                continue
            usage = next((t.usage for t in parts), None)
            self._item_presented(item.item_id, tuple(t.uid for t in parts), usage, now, effects)
        for tag in self._pad_tags:
            if (tag.item_id is None or tag.error) and f"tag:{tag.uid}" not in lines \
                    and tag.uid not in self._stale:
                lines[f"tag:{tag.uid}"] = Line(f"tag:{tag.uid}", "", status=LineStatus.STAFF,
                                               reason=Reason.UNREADABLE_TAG)

    def _item_presented(self, item_id: str, uids: tuple[str, ...], usage: str | None,
                        now: float, effects: Effects) -> None:
        screen = self.view.screen
        if screen is Screen.ATTRACT:
            self._session.open_session(now)
            screen = Screen.HOME
        if screen not in (Screen.BORROW, Screen.RETURN) or (
                screen is Screen.BORROW and self._flow.patron is None):
            message = "card_first" if screen is Screen.IDENTIFY else "choose_service"
            self._session.acknowledge(now, message, {"code": mask(item_id)})
            return
        lines = self._flow.lines
        if not self._circ.ils or (item_id in lines
                                  and lines[item_id].reason is not Reason.INCOMPLETE_SET):
            return  # not set up here (the screen says so), or already on the screen
        if not uids:  # a barcode: its tags, when they lie on the pad, are part of the deal
            tags = [t for t in self._pad_tags if t.item_id == item_id and not t.error]
            item = next((s for s in self._pad_sets if s.item_id == item_id), None)
            if item is not None and not item.complete:
                lines[item_id] = Line(item_id, item_id, status=LineStatus.REFUSED,
                                      reason=Reason.INCOMPLETE_SET)
                return
            uids, usage = tuple(t.uid for t in tags), next((t.usage for t in tags), usage)
        kind = "checkout" if screen is Screen.BORROW else "checkin"
        job = _Job(kind, item_id, self._flow.patron_id if kind == "checkout" else None,
                   self._flow_no, device=self._pad_source, uids=uids, usage=usage)
        lines[item_id] = Line(item_id, item_id)
        if kind == "checkout" and not self._flow.patron.can_borrow:
            self._finish(job, Reason.BLOCKED, effects)
        elif kind == "checkout":
            self._call(effects, "checkout", job, CheckOut(job.patron_id, item_id, self._flow.pin),
                       intent=self._intent(job, effects))
        else:
            self._call(effects, "checkin", job, CheckIn(item_id), intent=self._intent(job, effects))

    # --- the ILS answers ------------------------------------------------------------------

    def _on_IlsAnswered(self, event: ev.IlsAnswered, now: float, effects: Effects) -> None:
        what, subject = self._calls.pop(event.token, (None, None))
        if what is None:
            log.warning("an ILS answer nobody asked for (token %s)", event.token)
            return
        if what == "patron":
            if subject == self._flow_no and self.view.screen is Screen.IDENTIFY \
                    and self._flow.step is Step.CHECKING:
                self._patron_answered(event, now, effects)
        elif what == "loans":
            if subject == self._flow_no and self.view.screen is Screen.ACCOUNT:
                self._loans_answered(event, effects)
        elif what == "loan":
            flow_no, item_id = subject
            if flow_no == self._flow_no and self.view.screen is Screen.ACCOUNT:
                self._loan_answered(item_id, event)
        elif what in ("checkout", "checkin"):
            self._transaction_answered(subject, event, effects)
        elif what == "why":
            self._refusal_explained(subject, event, effects)
        elif what == "renew":
            self._renew_answered(subject, event, effects)
        elif event.error and what != "end_session":
            log.warning("ILS %s failed: %s", what, event.error)
        self.publish()

    def _transaction_answered(self, job: _Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        if job.flow_no != self._flow_no:
            self._answered_too_late(job, answer, effects)
            return
        if answer.offline:
            self._offline(job, effects)
            return
        if answer.unknown:
            self._finish(job, Reason.UNKNOWN, effects)
            return
        result = _result(answer, CheckoutReply if job.kind == "checkout" else CheckinReply)
        if result is None:
            log.warning("%s of %s failed: %s", job.kind, job.item_id, answer.error)
            self._finish(job, Reason.ILS_ERROR, effects)
            return
        job.title = result.title or job.title
        job.message = " ".join(result.screen_message)
        if not result.ok:
            # Ask what the item is, to tell the patron why in words (on hold, unknown...).
            self._call(effects, "why", job, LookUpItem(job.item_id))
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
        self._secure(job, change, effects)

    def _answered_too_late(self, job: _Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        """The patron has gone: journal what the ILS did, and leave the tags alone (nobody
        is there to take the book, so its alarm stays as it is)."""
        result = _result(answer, CheckoutReply if job.kind == "checkout" else CheckinReply)
        if answer.offline:
            outcome = Reason.ILS_UNAVAILABLE
        elif answer.unknown:
            outcome = Reason.UNKNOWN
        elif result is None:
            outcome = Reason.ILS_ERROR
        else:
            job.title = result.title or job.title
            outcome = Outcome.OK if result.ok else Reason.ILS_REFUSED
        self._finish(job, outcome, effects)

    def _refusal_explained(self, job: _Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        item = _result(answer, ItemRecord)
        if item is not None:
            job.title = job.title or item.title or ""
        reason = refusal_reason(item, job.usage, job.kind)
        if job.kind == "checkout" and reason in ITEM_REFUSALS:
            effects.append(ev.RememberRefusal(job.item_id, reason))
        self._finish(job, reason, effects)

    def _secure(self, job: _Job, change: bool, effects: Effects) -> None:
        """Disarm (checkout) or arm (checkin) every part, then finish once all read back."""
        if not change or not job.uids:
            self._finish(job, Outcome.OFFLINE if job.offline else Outcome.OK, effects)
            return
        job.pending = set(job.uids)
        for uid in job.uids:
            token = next(self._tokens)
            self._security[token] = job
            effects.append(ev.SetSecurity(token, job.device, uid, secured=job.kind == "checkin"))

    def _on_SecurityDone(self, event: ev.SecurityDone, now: float, effects: Effects) -> None:
        job = self._security.pop(event.token, None)
        if job is None:
            return
        wanted = job.kind == "checkin"
        if not event.ok or event.secured is not wanted:
            log.warning("security of %s (%s) not %s: %s", event.uid, job.item_id,
                        "set" if wanted else "cleared", event.error or f"read {event.secured}")
            job.security_failed = True
        job.pending.discard(event.uid)
        if not job.pending:
            outcome = Reason.SECURITY_FAILED if job.security_failed else (
                Outcome.OFFLINE if job.offline else Outcome.OK)
            self._finish(job, outcome, effects)
        self.publish()

    def _finish(self, job: _Job, outcome: TransactionOutcome, effects: Effects) -> None:
        """The journal row first, then the line the patron sees."""
        detail: dict[str, Any] = {}
        if job.offline:
            detail["offline"] = True
        if job.message and not isinstance(outcome, Outcome):
            detail["message"] = mask_numbers_in(job.message)[:200]
        if job.line is not None and job.line.renewal:
            detail["renewal"] = True
        if job.flow_no != self._flow_no:
            detail["after_session"] = True  # the patron had gone; staff may need to look
        # An unknown result leaves the intent open: it is reconciled with the ILS later.
        effects.append(ev.JournalAppend(job.kind, outcome, item=job.item_id,
                                        title=job.title or None, patron=job.patron_id,
                                        detail=detail, intent=job.intent,
                                        settles=outcome != Reason.UNKNOWN))
        if job.flow_no != self._flow_no:
            return
        base = job.line or Line(job.item_id, job.item_id, job.title)
        if outcome is Outcome.OK:
            line = replace(base, title=job.title, status=LineStatus.OK)
        elif outcome is Outcome.OFFLINE:
            line = replace(base, title=job.title, status=LineStatus.OFFLINE, due="")
        elif outcome in (Reason.SECURITY_FAILED, Reason.OFFLINE_FAILED, Reason.UNKNOWN):
            line = replace(base, title=job.title, status=LineStatus.STAFF, reason=outcome)
        else:
            line = replace(base, title=job.title, status=LineStatus.REFUSED, reason=outcome,
                           message=job.message)
        self._flow.lines[job.item_id] = line

    # --- offline --------------------------------------------------------------------------

    def _offline(self, job: _Job, effects: Effects) -> None:
        if not self._circ.offline:
            self._finish(job, Reason.ILS_UNAVAILABLE, effects)
            return
        if job.kind == "checkout" and not lendable_offline(job.item_id, job.usage,
                                                           self._circ.offline_refuse):
            self._finish(job, Reason.OFFLINE_NOT_LENDABLE, effects)  # its alarm stays armed
            return
        who = job.patron_id if job.kind == "checkout" else None
        known = self._offline_total is not None and (who is None or who in self._offline_patron)
        if not known:
            job.waiting_counts = True
            self._waiting.append(job)
            if who not in self._counts_asked:
                self._counts_asked.add(who)
                effects.append(ev.CountOffline(who))
            return
        if self._offline_total >= self._circ.offline_max_total or (
                who is not None and self._offline_patron[who] >= self._circ.offline_max_items):
            self._finish(job, Reason.OFFLINE_LIMIT, effects)
            return
        # Reserved now, so that books placed together cannot pass the limit together.
        self._offline_total += 1
        if who is not None:
            self._offline_patron[who] += 1
        token = next(self._tokens)
        self._records[token] = job
        effects.append(ev.OfflineRecord(job.kind, job.patron_id, job.item_id, token))

    def _on_OfflineCounts(self, event: ev.OfflineCounts, now: float, effects: Effects) -> None:
        self._counts_asked.discard(event.patron_id)
        self._offline_total = event.total_pending
        if event.patron_id is not None:
            self._offline_patron[event.patron_id] = event.patron_pending
        waiting, self._waiting = self._waiting, []
        for job in waiting:
            job.waiting_counts = False
            self._offline(job, effects)
        self.publish()

    def _on_OfflineRecorded(self, event: ev.OfflineRecorded, now: float, effects: Effects) -> None:
        job = self._records.pop(event.token, None)
        if job is None:
            return
        if not event.ok:
            log.error("offline %s of %s not recorded: %s", job.kind, job.item_id, event.error)
            self._offline_total = None  # ask again: the store may not have it
            self._offline_patron.clear()
            self._finish(job, event.reason or Reason.OFFLINE_FAILED, effects)
        else:
            job.offline = True
            job.line = Line(job.item_id, job.item_id, job.title, LineStatus.OFFLINE)
            self._secure(job, True, effects)
        self.publish()

    def _on_OfflineReplayed(self, event: ev.OfflineReplayed, now: float, effects: Effects) -> None:
        detail = {"kind": event.kind}
        if event.message:
            detail["message"] = mask_numbers_in(event.message)[:200]
        effects.append(ev.JournalAppend("offline_replay", event.outcome, item=event.item_id,
                                        title=event.title or None, patron=event.patron_id,
                                        detail=detail))

    def _on_IlsState(self, event: ev.IlsState, now: float, effects: Effects) -> None:
        if event.online != self._ils_online:
            log.info("the ILS is %s%s", "back" if event.online else "away",
                     f": {event.detail}" if event.detail else "")
        self._ils_online = event.online
        self.publish()

    # --- my account and renewals ----------------------------------------------------------

    def _load_account(self, effects: Effects) -> None:
        flow = self._flow
        if not flow.patron.checked:
            return  # taken offline: the screen says the account cannot be shown
        flow.loading = True
        self._call(effects, "loans", self._flow_no, LookUpPatron(flow.patron_id, flow.pin))

    def _loans_answered(self, answer: ev.IlsAnswered, effects: Effects) -> None:
        flow = self._flow
        flow.loading = False
        info = _result(answer, PatronRecord)
        if info is None:
            flow.message = "unavailable" if answer.offline else "ils_error"
            return
        flow.charged, flow.overdue_ids = tuple(info.charged), tuple(info.overdue)
        self._show_loans(effects)

    def _show_loans(self, effects: Effects) -> None:
        flow = self._flow
        flow.lines = {}
        for item_id in flow.charged:
            flow.lines[item_id] = Line(item_id, item_id, overdue=item_id in flow.overdue_ids)
            self._call(effects, "loan", (self._flow_no, item_id), LookUpItem(item_id))

    def _loan_answered(self, item_id: str, answer: ev.IlsAnswered) -> None:
        line = self._flow.lines.get(item_id)
        if line is None:
            return
        item = _result(answer, ItemRecord)
        self._flow.lines[item_id] = replace(
            line, status=LineStatus.LISTED, title=(item.title if item else "") or line.title,
            due=due_text(None, item.due) if item else "")

    def _on_Renew(self, event: ev.Renew, now: float, effects: Effects) -> None:
        flow = self._flow
        if self.view.screen is not Screen.ACCOUNT or flow.patron is None:
            return
        targets = [line for line in flow.lines.values() if line.status is LineStatus.LISTED
                   and (event.item_id is None or line.item_id == event.item_id)]
        for line in targets:
            job = _Job("renew", line.item_id, flow.patron_id, self._flow_no, title=line.title)
            job.line = line
            flow.lines[line.item_id] = replace(line, status=LineStatus.BUSY)
            if not flow.patron.can_renew:
                self._finish(job, Reason.BLOCKED, effects)
            else:
                # The due date before, so that a renewal whose reply was lost can be told.
                intent = self._intent(job, effects, {"due_before": line.due} if line.due else {})
                self._call(effects, "renew", job, RenewLoan(flow.patron_id, line.item_id, flow.pin),
                           intent=intent)
        self.publish()

    def _renew_answered(self, job: _Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        if answer.unknown:
            self._finish(job, Reason.UNKNOWN, effects)
            return
        result = _result(answer, RenewReply)
        if result is None:
            why = Reason.ILS_UNAVAILABLE if answer.offline else Reason.ILS_ERROR
            self._finish(job, why, effects)
            return
        job.title = result.title or job.title
        job.message = " ".join(result.screen_message)
        if result.ok:
            job.line = replace(job.line, due=due_text(result.due_date, result.due),
                               renewed=True, overdue=False)
            self._finish(job, Outcome.OK, effects)
        else:
            self._finish(job, Reason.ILS_REFUSED, effects)
            if job.flow_no == self._flow_no:  # the loan is still listed, with why not
                line = self._flow.lines[job.item_id]
                self._flow.lines[job.item_id] = replace(line, due=job.line.due)

    # --- finishing: the receipt -----------------------------------------------------------

    def _on_FinishFlow(self, event: ev.FinishFlow, now: float, effects: Effects) -> None:
        screen = self.view.screen
        if screen not in CIRCULATION or self.view.circulation.busy:
            return
        lines = list(self._flow.lines.values())
        if screen is Screen.ACCOUNT:  # loans merely listed are not on the receipt
            lines = [line for line in lines if line.renewed or line.status is LineStatus.REFUSED]
        done = [line for line in lines if line.transacted or line.renewed]
        self._journal_standing(effects)
        self._flow.lines = {}
        if not done:
            self._session.close(now, "ok", effects)
            return
        kind = {"borrow": "borrow", "return": "return", "account": "renew"}[_FLOW_NAMES[screen]]
        receipt = self._receipt(kind, [line for line in lines if line.item_id])
        text = receipts.receipt_text(receipt, self.view.language)
        qr = receipts.receipt_qr_text(receipt, self.view.language)
        printing = "none"
        if self._circ.printer and self._circ.receipt == "always":
            printing = "printing"
            effects.append(ev.PrintReceipt(text, qr))
        elif self._circ.printer and self._circ.receipt == "ask":
            printing = "offered"
        effects.append(ev.JournalAppend("receipt", "shown", detail={"kind": kind,
                                                                     "lines": len(done)}))
        self._flow.receipt = ReceiptView(kind, text, qr, printing)
        self.view = replace(self.view, screen=Screen.RECEIPT, notice=None)
        self.publish()

    def _receipt(self, kind: str, lines: list[Line]) -> receipts.Receipt:
        patron = self._flow.patron
        return receipts.Receipt(
            kind=kind, library_name_zh=self._circ.library_name_zh,
            library_name_en=self._circ.library_name_en, kiosk_id=self._circ.kiosk_id,
            when=self._wall(), patron_masked=patron.masked if patron and kind != "return" else "",
            lines=tuple(receipts.ReceiptLine(line.title or line.item_id, line.item_id,
                                             line.due or None, *_receipt_outcome(kind, line))
                        for line in lines))

    def _on_PrintRequested(self, event: ev.PrintRequested, now: float, effects: Effects) -> None:
        receipt = self._flow.receipt
        if self.view.screen is Screen.RECEIPT and receipt and receipt.printing in ("offered",
                                                                                   "failed"):
            effects.append(ev.PrintReceipt(receipt.text, receipt.qr))
            self._flow.receipt = replace(receipt, printing="printing")
            self.publish()

    def _on_ReceiptPrinted(self, event: ev.ReceiptPrinted, now: float, effects: Effects) -> None:
        effects.append(ev.JournalAppend("receipt", "printed" if event.ok else "print_failed",
                                        detail={} if event.ok else {"error": event.error or ""}))
        receipt = self._flow.receipt
        if receipt is not None and self.view.screen is Screen.RECEIPT:
            self._flow.receipt = replace(receipt, printing="printed" if event.ok else "failed")
            self.publish()

    # --- plumbing -------------------------------------------------------------------------

    def _call(self, effects: Effects, what: str, subject: Any, request: IlsRequest, *,
              intent: int | None = None) -> None:
        token = next(self._tokens)
        self._calls[token] = (what, self._flow_no if subject is None else subject)
        effects.append(ev.IlsCall(token, request, intent=intent))

    def _intent(self, job: _Job, effects: Effects, detail: dict[str, Any] | None = None) -> int:
        """Journal, before the call, that `job` is about to go to the ILS: a crash after the
        ILS acted still leaves a trace to reconcile at the next start."""
        job.intent = next(self._tokens)
        effects.append(ev.JournalIntent(job.intent, job.kind, job.item_id, job.patron_id,
                                        detail or {}))
        return job.intent

    def publish(self) -> None:
        flow, circ = self._flow, self._circ
        if not circ.ils:
            service = "not_set_up"
        elif self._ils_online is False:
            service = "offline" if circ.offline else "unavailable"
        else:
            service = "ok"
        view = CirculationView(purpose=flow.purpose, step=flow.step, message=flow.message,
                               patron=flow.patron, lines=tuple(flow.lines.values()),
                               service=service, loading=flow.loading, receipt=flow.receipt)
        if view != self.view.circulation:
            self.view = replace(self.view, circulation=view)


def refusal_reason(item: ItemRecord | None, usage: str | None, kind: str) -> Reason:
    """Why the ILS said no, from what it says of the item (None: it said nothing)."""
    if usage == "not_for_circulation":
        return Reason.NOT_FOR_LOAN
    if item is None:
        return Reason.ILS_REFUSED
    if not item.title:
        return Reason.UNKNOWN_ITEM
    if kind == "checkout":
        if item.circulation in ("waiting_on_hold_shelf", "recalled") or (item.hold_queue or 0) > 0:
            return Reason.ON_HOLD
        if item.circulation in ("charged", "charged_recall"):
            return Reason.ON_LOAN
    return Reason.ILS_REFUSED


def _result(answer: ev.IlsAnswered, kind: type[_R] | tuple[type[_R], ...]) -> _R | None:
    """The ILS's result when the call went through and it is of the kind asked for, else None
    (offline, an error, or a reply that does not fit: all read as no answer)."""
    result = answer.result
    if answer.error or answer.offline or not isinstance(result, kind):
        return None
    return result


def due_text(due_date: date | None, text: str) -> str:
    """YYYY-MM-DD for a parsed date, a SIP2 date (YYYYMMDDZZZZHHMMSS) or an ISO one."""
    if due_date is not None:
        return due_date.isoformat()
    text = (text or "").strip()
    digits = text[:8]
    if len(text) >= 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    return text


def _receipt_outcome(kind: str, line: Line) -> tuple[str, str]:
    """(outcome, reason) as `kiosk.receipts` names them."""
    if line.status in (LineStatus.REFUSED, LineStatus.STAFF):
        words = line.reason is Reason.ILS_REFUSED and line.message  # the ILS's own, when plainer
        return line.status, words or line.reason or ""
    if line.status is LineStatus.OFFLINE:
        return "offline", ""
    done = {"borrow": "borrowed", "return": "returned", "renew": "renewed"}[kind]
    return ("renewed" if line.renewal else done), ""
