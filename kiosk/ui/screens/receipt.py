"""The receipt: a large summary ("借了 3 册 · 应还 2027-01-05"), the receipt's text as the printer
prints it (in the monospaced face, so its rules and columns line up), its QR code (the text
itself, for the patron's phone to keep), Print when the library offers it, and Done, which ends
the session. All of it in the language showing: a switch renders the receipt again."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty

from kiosk import receipts
from kiosk.core import events as ev
from kiosk.i18n import N_
from kiosk.ui.qr import qr_texture
from kiosk.ui.screens.base import KioskScreen

PRINTING = {
    "printing": N_("Printing…"),
    "printed": N_("Printed. Please take your receipt."),
    "failed": N_("The receipt could not be printed. Please keep it with the QR code."),
}


class ReceiptScreen(KioskScreen):
    text = StringProperty("")
    summary = StringProperty("")
    qr = ObjectProperty(None, allownone=True)
    qr_payload = StringProperty("")
    printing = StringProperty("none")
    print_text = StringProperty("")

    def show(self, view) -> None:
        super().show(view)
        receipt = view.circulation.receipt
        if receipt is None:
            return
        rendered = receipts.render(receipt.receipt, view.language)
        if rendered.qr != self.qr_payload:
            self.qr_payload = rendered.qr
            self.qr = qr_texture(rendered.qr)
        self.text, self.summary = rendered.text, rendered.summary
        self.printing = receipt.printing
        self.print_text = self.tr(view.language, PRINTING[receipt.printing]) \
            if receipt.printing in PRINTING else ""

    def print_receipt(self) -> None:
        self.send(ev.PrintRequested())

    def done(self) -> None:
        self.send(ev.EndSession())
