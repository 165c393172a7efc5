"""Holds ready for the patron to collect, named in the patron's summary: asked of the ILS once
the patron is taken (only when it counted any), each looked up for its title; a hold the
patron borrows is struck off (`PatronView.lent`).
Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.core import events as ev
from kiosk.core.circulation_state import Asked, CirculationState, answer_of
from kiosk.core.circulation_view import HoldReady
from kiosk.core.flow_port import Effects
from kiosk.core.ils_calls import ItemRecord, LookUpHolds, LookUpItem, PatronRecord

MAX_NAMED = 5  # holds looked up for their titles; the summary counts the rest


class Holds:
    """The patron's holds ready: listed, then named."""

    def __init__(self, state: CirculationState) -> None:
        self.state = state

    def ask(self, effects: Effects) -> None:
        """After the patron was taken: the list, when the ILS's counts say there is one."""
        flow = self.state.flow
        patron = flow.patron
        if patron is None or not patron.checked or patron.holds_ready <= 0 \
                or flow.patron_id is None:
            return
        self.state.call_for_flow(effects, Asked.HOLDS, LookUpHolds(flow.patron_id, flow.pin))

    def listed(self, answer: ev.IlsAnswered, effects: Effects) -> None:
        flow = self.state.flow
        info = answer_of(answer, PatronRecord)
        if info is None or flow.patron is None:
            return  # the summary keeps the count it has
        entries = list(dict.fromkeys(e.strip() for e in info.holds_ready if e.strip()))
        flow.patron = replace(flow.patron, holds=tuple(HoldReady(e) for e in entries),
                              holds_ready=max(flow.patron.holds_ready, len(entries)))
        for entry in entries[:MAX_NAMED]:
            self.state.call_for_flow(effects, Asked.HOLD, LookUpItem(entry), item_id=entry)

    def named(self, entry: str, answer: ev.IlsAnswered) -> None:
        patron = self.state.flow.patron
        if patron is None:
            return
        item = answer_of(answer, ItemRecord)
        # An entry the ILS does not know as an item is its title (ILSs may be set to send
        # titles); a bare number stays unnamed rather than show a barcode to the patron.
        title = item.title if item and item.title else ("" if entry.isdigit() else entry)
        self.state.flow.patron = replace(patron, holds=tuple(
            replace(hold, title=title) if hold.entry == entry else hold for hold in patron.holds))
