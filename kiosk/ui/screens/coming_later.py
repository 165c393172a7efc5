"""The screen of a service that a later version brings: it says so plainly."""

from kivy.properties import StringProperty

from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen

TITLES = {
    "borrow": N_("Borrow"),
    "return": N_("Return"),
    "ebooks": N_("E-books"),
    "account": N_("My account"),
}


class ComingLaterScreen(KioskScreen):
    title_id = StringProperty("")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.title_id = TITLES[self.name]
