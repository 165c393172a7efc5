"""Borrow, return, renew: the circulation flow the session owns, put together from its parts.

Each part owns one job and lives in its own module: `identification` (who the patron is),
`pad` (tags and barcodes presented), `transactions` (the ILS's answer to a checkout or checkin),
`security` (the alarm bit), `offline` (the ILS away), `account` (loans and renewals),
`holds` (the holds ready, for the patron's summary) and `finishing` (the receipt). They share
one `CirculationState` (`circulation_state`). This module builds them, puts their handlers in
one table, routes each ILS answer to the part that asked, and moves the flow in and out of its
screens for the session.

Same rules as the whole core: pure, the clock passed in, no I/O, no threads. The outside is
asked through effects that carry a token (`IlsCall` with a `kiosk.core.ils_calls` request,
`SetSecurity`, `OfflineRecord`, `CountOffline`, `PrintReceipt`) and answers with events carrying
it back; the ILS's answers are the core's own result types (the core never imports
`kiosk.sip2`).

A book's journey: the ILS says yes -> its security is changed on every part's tag and read back
-> only then the line shows it done and the journal row is written. Offline (the ILS away and
`[circulation] offline = true`) the offline store's yes takes the ILS's place, within limits.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Callable

from kiosk.core import events as ev
from kiosk.core.account import Account
from kiosk.core.circulation_state import (
    Asked,
    CirculationState,
    FlowCall,
    JobCall,
    PatronFlow,
    answer_of,
)
from kiosk.core.events import Screen
from kiosk.core.finishing import Finishing
from kiosk.core.flow_port import Effects, Flow, Handlers, SessionPort, handler_table
from kiosk.core.holds import Holds
from kiosk.core.identification import Identification
from kiosk.core.ils_calls import EndPatronSession, ItemRecord
from kiosk.core.offline import Offline
from kiosk.core.outcomes import IdentifyMessage, Reason, Step
from kiosk.core.pad import Pad
from kiosk.core.security import Security
from kiosk.core.transactions import Transactions

log = logging.getLogger(__name__)


class CirculationFlow(Flow):
    """The circulation events' handlers; the session moves it in and out of its screens
    (`enter`, `may_leave`, `leave_to_home`, `end_session`) and has it `publish` its view."""

    def __init__(self, session: SessionPort, wall: Callable[[], datetime]) -> None:
        """`wall` gives local time for receipts."""
        super().__init__(session)
        self.state = CirculationState(session, wall)
        self.ident = Identification(self.state)
        self.pad = Pad(self.state, self.ident)
        self.security = Security(self.state)
        self.offline = Offline(self.state, self.security)
        self.transactions = Transactions(self.state, self.security, self.offline)
        self.account = Account(self.state)
        self.finishing = Finishing(self.state)
        self.holds = Holds(self.state)

    @property
    def pad_uids(self) -> frozenset[str]:
        """The tags on the pad as last reported (patron cards included)."""
        return frozenset(tag.uid for tag in self.state.pad_tags) | self.state.pad_cards

    def handlers(self) -> Handlers:
        return handler_table(
            {ev.IlsAnswered: self._on_IlsAnswered}, self.ident.handlers(), self.pad.handlers(),
            self.security.handlers(), self.offline.handlers(), self.account.handlers(),
            self.finishing.handlers())

    def publish(self) -> None:
        self.state.publish()

    # --- moving in and out of the circulation screens (called by Session) --------------

    def enter(self, to: Screen, now: float, effects: Effects) -> None:
        flow = self.state.flow
        flow.lines, flow.receipt, flow.message = {}, None, None
        if to is Screen.RETURN or flow.patron is not None:
            self.view = replace(self.view, screen=to, notice=None)
            if to is Screen.ACCOUNT:
                self.account.load(effects)
            elif to is Screen.BORROW:
                self._stop_or_borrow(now, effects)
            else:
                self.pad.take_pad(now, effects)
        else:
            flow.purpose, flow.step = to, Step.CARD
            self.view = replace(self.view, screen=Screen.IDENTIFY, notice=None)
            if not self.state.circ.ils:
                flow.message = IdentifyMessage.NOT_SET_UP
        self.state.publish()

    def may_leave(self) -> bool:
        return self.view.circulation.may_leave

    def leave_to_home(self, effects: Effects) -> None:
        """Back to home from a flow screen: its lines go, the patron stays."""
        self.state.journal_standing(effects)
        flow = self.state.flow
        flow.lines, flow.receipt, flow.message = {}, None, None
        if flow.patron is None:
            flow.patron_id, flow.pin, flow.step, flow.pin_failures = None, None, Step.CARD, 0
        self.state.publish()

    def take_card(self) -> bool | None:
        """How the session's goodbye goes: True to ask for the card back (a card was shown),
        False for thanks alone (an e-card, a typed number, returns without a card), None for
        none (nobody was identified and nothing was done)."""
        flow = self.state.flow
        if flow.patron is not None:
            return flow.physical_card
        if flow.receipt is not None or any(line.transacted for line in flow.lines.values()):
            return False
        return None

    def end_session(self, effects: Effects) -> None:
        """The session ends: tell the ILS, journal what was left standing, forget the patron."""
        state = self.state
        state.journal_standing(effects)
        flow = state.flow
        if flow.patron is not None and flow.patron.checked and state.ils_online is not False \
                and flow.patron_id is not None:
            state.call_for_flow(effects, Asked.END_SESSION, EndPatronSession(flow.patron_id))
        state.flow = PatronFlow()
        state.flow_no += 1
        # Books left lying on the pad are the last patron's: the next one must lift and place
        # them again to have them count, so nobody borrows or returns what they did not bring.
        state.stale = {tag.uid for tag in state.pad_tags}
        state.told_left = False
        state.titles_asked.clear()
        state.offline_total = None  # replays may have settled some by the next patron
        state.offline_patron.clear()
        state.counts_asked.clear()
        waiting, state.waiting = state.waiting, []
        for job in waiting:  # the ILS was away and the patron left before the store answered
            state.finish(job, Reason.ILS_UNAVAILABLE, effects)

    # --- the ILS answers: to the part that asked ------------------------------------------

    def _on_IlsAnswered(self, event: ev.IlsAnswered, now: float, effects: Effects) -> None:
        state = self.state
        call = state.calls.pop(event.token, None)
        if call is None:
            log.warning("an ILS answer nobody asked for (token %s)", event.token)
        elif isinstance(call, JobCall):
            self._job_answered(call, event, effects)
        elif call.flow_no == state.flow_no:  # else the patron it was for has gone
            self._flow_answered(call, event, now, effects)
        state.publish()

    def _job_answered(self, call: JobCall, event: ev.IlsAnswered, effects: Effects) -> None:
        if call.asked in (Asked.CHECKOUT, Asked.CHECKIN):
            self.transactions.answered(call.job, event, effects)
        elif call.asked is Asked.WHY:
            self.transactions.refusal_explained(call.job, event, effects)
        elif call.asked is Asked.RENEW:
            self.account.renew_answered(call.job, event, effects)
        else:
            raise ValueError(f"no transaction asks the ILS for {call.asked}")

    def _stop_or_borrow(self, now: float, effects: Effects) -> None:
        """On the borrow screen with the patron known: a card that cannot borrow gets the
        full-screen stop (why, what is owed, where to go) instead of an invitation to borrow."""
        patron = self.state.flow.patron
        if patron is None or patron.can_borrow:
            self.pad.take_pad(now, effects)
            return
        self.view = replace(self.view, screen=Screen.BLOCKED, notice=None)
        effects.append(ev.BorrowingBlocked(patron.blocks, patron.fines, patron.currency,
                                           patron.next_step))

    def _title_answered(self, item_id: str, event: ev.IlsAnswered) -> None:
        line = self.state.flow.lines.get(item_id)
        item = answer_of(event, ItemRecord)
        if line is not None and not line.title and item is not None and item.title:
            self.state.flow.lines[item_id] = replace(line, title=item.title)

    def _flow_answered(self, call: FlowCall, event: ev.IlsAnswered, now: float,
                       effects: Effects) -> None:
        state, screen = self.state, self.view.screen
        if call.asked is Asked.PATRON:
            if screen is Screen.IDENTIFY and state.flow.step is Step.CHECKING \
                    and self.ident.patron_answered(event):
                self.holds.ask(effects)
                if state.flow.purpose is Screen.BORROW:
                    self._stop_or_borrow(now, effects)
                elif state.flow.purpose is Screen.ACCOUNT:
                    self.account.show_loans(effects)
        elif call.asked is Asked.LOANS:
            if screen is Screen.ACCOUNT:
                self.account.loans_answered(event, effects)
        elif call.asked is Asked.LOAN:
            if screen is Screen.ACCOUNT:
                self.account.loan_answered(call.item_id, event)
        elif call.asked is Asked.TITLE:
            self._title_answered(call.item_id, event)
        elif call.asked is Asked.HOLDS:
            self.holds.listed(event, effects)
        elif call.asked is Asked.HOLD:
            self.holds.named(call.item_id, event)
        elif event.error and call.asked is not Asked.END_SESSION:
            log.warning("ILS %s failed: %s", call.asked, event.error)
