"""The staff PIN pad that guards the admin screen. Runs on the Kivy main thread.

The core checks nothing here: OK sends the PIN, the runtime checks it on its PIN thread, and
meanwhile (and while locked out after too many wrong PINs) the keypad is off. The lockout's
message counts down in Chinese, then English, whatever language the screen shows.
"""

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
    "checking": N_("Checking the PIN…"),
}
LOCKED_MINUTES = N_("Too many wrong PINs. The keypad is locked for {minutes} min {seconds} s.")
LOCKED_SECONDS = N_("Too many wrong PINs. The keypad is locked for {seconds} s.")
KEYPAD_OFF = frozenset({"locked", "checking"})


class AdminPinScreen(KioskScreen):
    digits = StringProperty("")

    def message_id(self, view) -> str:
        return MESSAGES[view.pin_message if view else None]

    def message_text(self, view, lang: str) -> str:
        if view is None or view.pin_message != "locked" or not view.pin_wait_s:
            return self.tr(lang, self.message_id(view))
        minutes, seconds = divmod(view.pin_wait_s, 60)
        msgid = LOCKED_MINUTES if minutes else LOCKED_SECONDS
        return "\n".join(self.tr(language, msgid, minutes=minutes, seconds=seconds)
                         for language in ("zh_CN", "en"))

    @staticmethod
    def keypad_off(view) -> bool:
        return view is not None and view.pin_message in KEYPAD_OFF

    def press(self, key: str) -> None:
        if self.keypad_off(self.view):
            return
        if key == "clear":
            self.digits = ""
        elif key == "ok":
            pin, self.digits = self.digits, ""
            self.send(ev.PinSubmitted(pin))
        elif len(self.digits) < MAX_DIGITS:
            self.digits += key

    def on_leave(self, *args) -> None:
        self.digits = ""  # never leave a half-typed PIN for the next person
