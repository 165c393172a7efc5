"""The goodbye screen, for a few seconds as a session ends: thanks, and "please take your
library card" when a physical card was shown (an e-card on a phone, or a number typed, is only
thanked). In the patron's language; a touch starts the next patron's session at once.
Main thread only, like every screen; the core moves on to the attract screen."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk.core import events as ev
from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen

TAKE_CARD = N_("Thank you — please take your library card")
THANKS = N_("Thank you")
SEE_YOU = N_("See you again soon.")


class GoodbyeScreen(KioskScreen):
    take_card = BooleanProperty(False)

    def show(self, view) -> None:
        super().show(view)
        if view.farewell is not None:
            self.take_card = view.farewell.take_card

    def on_touch_down(self, touch) -> bool:
        if self.collide_point(*touch.pos):
            self.send(ev.Start())
            return True
        return super().on_touch_down(touch)
