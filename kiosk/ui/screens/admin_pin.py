"""The staff PIN pad that guards the admin screen."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.core import events as ev
from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen

MAX_DIGITS = 12
MESSAGES = {
    None: N_("Enter the staff PIN"),
    "wrong": N_("Wrong PIN. Please try again."),
    "locked": N_("Too many wrong PINs. Please try again later."),
    "no_pin": N_("No staff PIN is set. A technician sets admin.pin_hash in kiosk.toml."),
}


class AdminPinScreen(KioskScreen):
    digits = StringProperty("")

    def message_id(self, view) -> str:
        return MESSAGES[view.pin_message if view else None]

    def press(self, key: str) -> None:
        if key == "clear":
            self.digits = ""
        elif key == "ok":
            pin, self.digits = self.digits, ""
            self.send(ev.PinSubmitted(pin))
        elif len(self.digits) < MAX_DIGITS:
            self.digits += key

    def on_leave(self, *args) -> None:
        self.digits = ""  # never leave a half-typed PIN for the next person
