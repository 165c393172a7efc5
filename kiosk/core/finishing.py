"""Finishing a borrow, return or renewal: the receipt of the flow's lines (shown, and printed
when a printer is configured and the patron or the config asks), its journal rows.
Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.core import events as ev
from kiosk.core.circulation_state import CirculationState
from kiosk.core.circulation_view import Line, ReceiptView
from kiosk.core.events import CIRCULATION, Screen
from kiosk.core.flow_port import Effects, Handlers
from kiosk.core.outcomes import LineStatus, Printing, Reason
from kiosk.core.receipt_data import Receipt, ReceiptLine

_FLOW_NAMES = {Screen.BORROW: "borrow", Screen.RETURN: "return", Screen.ACCOUNT: "account"}


class Finishing:
    """The receipt screen: the receipt made, shown and printed."""

    def __init__(self, state: CirculationState) -> None:
        self.state = state

    def handlers(self) -> Handlers:
        return {ev.FinishFlow: self._on_FinishFlow, ev.PrintRequested: self._on_PrintRequested,
                ev.ReceiptPrinted: self._on_ReceiptPrinted}

    def _on_FinishFlow(self, event: ev.FinishFlow, now: float, effects: Effects) -> None:
        screen = self.state.view.screen
        if screen not in CIRCULATION or self.state.view.circulation.busy:
            return
        lines = list(self.state.flow.lines.values())
        if screen is Screen.ACCOUNT:  # loans merely listed are not on the receipt
            lines = [line for line in lines if line.renewed or line.status is LineStatus.REFUSED]
        done = [line for line in lines if line.transacted or line.renewed]
        self.state.journal_standing(effects)
        self.state.flow.lines = {}
        if not done:
            self.state.session.close(now, "ok", effects)
            return
        kind = {"borrow": "borrow", "return": "return", "account": "renew"}[_FLOW_NAMES[screen]]
        receipt = self._receipt(kind, [line for line in lines if line.item_id])
        language = self.state.view.language
        printing = Printing.NONE
        if self.state.circ.printer and self.state.circ.receipt == "always":
            printing = Printing.PRINTING
            effects.append(ev.PrintReceipt(receipt, language))
        elif self.state.circ.printer and self.state.circ.receipt == "ask":
            printing = Printing.OFFERED
        effects.append(ev.JournalAppend("receipt", "shown", detail={"kind": kind,
                                                                     "lines": len(done)}))
        self.state.flow.receipt = ReceiptView(kind, receipt, printing)
        self.state.view = replace(self.state.view, screen=Screen.RECEIPT, notice=None)
        self.state.publish()

    def _receipt(self, kind: str, lines: list[Line]) -> Receipt:
        patron = self.state.flow.patron
        return Receipt(
            kind=kind, library_name_zh=self.state.circ.library_name_zh,
            library_name_en=self.state.circ.library_name_en, kiosk_id=self.state.circ.kiosk_id,
            when=self.state.wall(),
            patron_masked=patron.masked if patron and kind != "return" else "",
            lines=tuple(ReceiptLine(line.title or line.item_id, line.item_id,
                                    line.due or None, *_receipt_outcome(kind, line))
                        for line in lines))

    def _on_PrintRequested(self, event: ev.PrintRequested, now: float, effects: Effects) -> None:
        receipt = self.state.flow.receipt
        if self.state.view.screen is Screen.RECEIPT and receipt \
                and receipt.printing in (Printing.OFFERED, Printing.FAILED):
            # In the language showing: the patron may have switched since finishing.
            effects.append(ev.PrintReceipt(receipt.receipt, self.state.view.language))
            self.state.flow.receipt = replace(receipt, printing=Printing.PRINTING)
            self.state.publish()

    def _on_ReceiptPrinted(self, event: ev.ReceiptPrinted, now: float, effects: Effects) -> None:
        effects.append(ev.JournalAppend("receipt", "printed" if event.ok else "print_failed",
                                        detail={} if event.ok else {"error": event.error or ""}))
        receipt = self.state.flow.receipt
        if receipt is not None and self.state.view.screen is Screen.RECEIPT:
            printing = Printing.PRINTED if event.ok else Printing.FAILED
            self.state.flow.receipt = replace(receipt, printing=printing)
            self.state.publish()


def _receipt_outcome(kind: str, line: Line) -> tuple[str, str]:
    """(outcome, reason) as a `ReceiptLine` names them."""
    if line.status in (LineStatus.REFUSED, LineStatus.STAFF):
        words = line.reason is Reason.ILS_REFUSED and line.message  # the ILS's own, when plainer
        return line.status, words or line.reason or ""
    if line.status is LineStatus.OFFLINE:
        return "offline", ""
    done = {"borrow": "borrowed", "return": "returned", "renew": "renewed"}[kind]
    return ("renewed" if line.renewal else done), ""
