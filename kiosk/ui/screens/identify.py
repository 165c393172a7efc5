"""Who is borrowing: a card scanned, an e-card QR shown, a card on the pad, or a number typed
on the keypad; then the PIN when the library asks for one. The typed digits stay here until OK;
the core decides what they mean."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.core import events as ev
from kiosk.core.card_number import MAX_CARD_DIGITS
from kiosk.core.events import Screen
from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.screens.flow import BANNERS, MESSAGES

MAX_PIN_DIGITS = 12
TITLES = {Screen.BORROW: N_("Borrow"), Screen.ACCOUNT: N_("My account")}
PROMPTS = {
    "card": N_("Scan your library card or the e-card on your phone, or put your card on the pad. "
               "Or type your card number and press OK."),
    "pin": N_("Please type your PIN and press OK."),
    "checking": N_("Checking your card…"),
}


class IdentifyScreen(KioskScreen):
    digits = StringProperty("")
    heading = StringProperty("")
    prompt = StringProperty("")
    message = StringProperty("")
    banner = StringProperty("")
    step = StringProperty("card")
    keypad_on = StringProperty("yes")  # "no" while checking or when nothing can be done

    def show(self, view) -> None:
        super().show(view)
        circ, tr, lang = view.circulation, self.tr, view.language
        if circ.step != self.step:
            self.digits = ""  # never carry a card number into the PIN, or a PIN onwards
        self.step = circ.step
        self.heading = tr(lang, TITLES.get(circ.purpose, TITLES[Screen.BORROW]))
        self.prompt = tr(lang, PROMPTS[circ.step])
        self.banner = tr(lang, BANNERS[circ.service]) if circ.service in BANNERS else ""
        message = tr(lang, MESSAGES[circ.message], length=circ.card_length) \
            if circ.message in MESSAGES else ""
        self.message = "" if message == self.banner else message  # said once is enough
        usable = circ.step != "checking" and circ.message != "not_set_up"
        self.keypad_on = "yes" if usable else "no"

    def press(self, key: str) -> None:
        if key == "clear":
            self.digits = ""
        elif key == "ok":
            entered, self.digits = self.digits, ""
            if entered:
                self.send(ev.PatronPinTyped(entered) if self.step == "pin"
                          else ev.CardNumberTyped(entered))
        elif len(self.digits) < (MAX_PIN_DIGITS if self.step == "pin" else MAX_CARD_DIGITS):
            self.digits += key
        self.send(ev.Touch())

    def on_leave(self, *args) -> None:
        self.digits = ""
