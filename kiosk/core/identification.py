"""Who the patron is: a card (barcode, e-card QR, card reader, a patron-card tag on the pad) or a
number typed on the keypad, then the PIN step when the ILS or the config asks for one, then the
ILS's answer: taken (with what their account holds), refused, or taken unchecked offline.
Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from common.masking import mask
from kiosk.core import events as ev
from kiosk.core.card_number import card_number_problem
from kiosk.core.circulation_state import Asked, CirculationState, answer_of
from kiosk.core.circulation_view import PatronView
from kiosk.core.events import WELCOMING, Screen
from kiosk.core.flow_port import Effects, Handlers
from kiosk.core.ils_calls import LookUpPatron, PatronRecord
from kiosk.core.outcomes import IdentifyMessage, Step

log = logging.getLogger(__name__)


class Identification:
    """The identify screen's steps, and the card presented anywhere."""

    def __init__(self, state: CirculationState) -> None:
        self.state = state

    def handlers(self) -> Handlers:
        return {ev.CardNumberTyped: self._on_CardNumberTyped,
                ev.PatronPinTyped: self._on_PatronPinTyped}

    def _on_CardNumberTyped(self, event: ev.CardNumberTyped, now: float, effects: Effects) -> None:
        flow, circ = self.state.flow, self.state.circ
        if self.state.view.screen is not Screen.IDENTIFY or flow.step is not Step.CARD:
            return
        number = event.number.strip()
        problem = card_number_problem(number, circ.card_prefixes, circ.card_length,
                                      circ.card_luhn)
        if problem is not None:  # told on the screen; the ILS is never asked
            flow.message = problem
            self.state.publish()
            return
        self._identify(number, now, effects, physical=False)

    def _on_PatronPinTyped(self, event: ev.PatronPinTyped, now: float, effects: Effects) -> None:
        flow = self.state.flow
        if self.state.view.screen is Screen.IDENTIFY and flow.step is Step.PIN and event.pin \
                and flow.patron_id is not None:
            flow.pin, flow.step, flow.message = event.pin, Step.CHECKING, None
            self.state.call_for_flow(effects, Asked.PATRON, LookUpPatron(flow.patron_id, event.pin))
            self.state.publish()

    def card_presented(self, number: str, now: float, effects: Effects, *,
                       physical: bool = True) -> None:
        """A card shown: `physical` unless it is an e-card on a phone (the farewell then asks
        for no card to be taken)."""
        screen = self.state.view.screen
        if screen in WELCOMING:
            self.state.session.open_session(now)
            screen = Screen.HOME
        if screen in (Screen.HOME, Screen.IDENTIFY):
            if screen is Screen.HOME:
                self.state.flow.purpose = Screen.BORROW
            if self.state.flow.step is not Step.CHECKING:
                self._identify(number, now, effects, physical=physical)
        elif screen is Screen.RETURN:
            self.state.session.acknowledge(now, "no_card_needed", {})
        elif screen in (Screen.BORROW, Screen.ACCOUNT) and number == self.state.flow.patron_id:
            pass  # the same card again
        else:
            self.state.session.acknowledge(now, "finish_first", {})

    def _identify(self, number: str, now: float, effects: Effects, *, physical: bool) -> None:
        flow = self.state.flow
        flow.patron_id, flow.pin, flow.patron, flow.message = number, None, None, None
        flow.physical_card = physical
        flow.pin_failures = 0
        self.state.view = replace(self.state.view, screen=Screen.IDENTIFY, notice=None)
        if not self.state.circ.ils:
            flow.message, flow.step = IdentifyMessage.NOT_SET_UP, Step.CARD
        elif self.state.circ.pin == "yes":
            flow.step = Step.PIN
        else:
            flow.step = Step.CHECKING
            self.state.call_for_flow(effects, Asked.PATRON, LookUpPatron(number))
        self.state.publish()

    def patron_answered(self, answer: ev.IlsAnswered) -> bool:
        """Whether the patron was taken: the flow then goes on to its purpose's screen."""
        flow = self.state.flow
        if answer.offline:
            if self.state.circ.offline and flow.purpose is Screen.BORROW:
                self._accept_patron(PatronView(mask(flow.patron_id or ""), checked=False), (), ())
                return True
            self._identify_failed(IdentifyMessage.UNAVAILABLE)
            return False
        info = answer_of(answer, PatronRecord)
        if info is None:
            log.warning("patron information failed: %s", answer.error)
            self._identify_failed(IdentifyMessage.ILS_ERROR)
        elif info.valid is False:
            self._identify_failed(IdentifyMessage.UNKNOWN_CARD)
        elif self.state.circ.pin != "no" and (info.pin_ok is False or (
                info.pin_ok is None and flow.pin is None)):
            # A missing CQ says nothing (some ILSs report it only when asked with a PIN): a
            # patron is taken without a PIN only when the ILS said so, or with pin = "no".
            if flow.pin is None:
                flow.step, flow.message = Step.PIN, None
            else:
                flow.pin_failures += 1
                flow.pin = None
                if flow.pin_failures >= self.state.circ.pin_attempts:
                    self._identify_failed(IdentifyMessage.PIN_LOCKED)
                else:
                    flow.step, flow.message = Step.PIN, IdentifyMessage.WRONG_PIN
        else:
            patron = PatronView(
                masked=mask(flow.patron_id or ""), name=info.name or "",
                charged=max(info.charged_count or 0, len(info.charged)),
                overdue=max(info.overdue_count or 0, len(info.overdue)),
                holds_ready=max(info.hold_count or 0, len(info.holds_ready)),
                fines=info.fines or "", currency=info.currency or "", blocks=tuple(info.blocks),
                message=info.message)
            self._accept_patron(patron, tuple(info.charged), tuple(info.overdue))
            return True
        return False

    def _identify_failed(self, message: IdentifyMessage) -> None:
        flow = self.state.flow
        flow.step, flow.message = Step.CARD, message
        flow.patron_id, flow.pin, flow.pin_failures = None, None, 0

    def _accept_patron(self, patron: PatronView, charged: tuple[str, ...],
                       overdue: tuple[str, ...]) -> None:
        flow = self.state.flow
        flow.patron, flow.charged, flow.overdue_ids = patron, charged, overdue
        flow.step, flow.message = Step.CARD, None
        self.state.view = replace(self.state.view, screen=flow.purpose)
