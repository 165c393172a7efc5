"""The blocked stop: a card that cannot borrow meets a full screen instead of an invitation to
borrow. Why in plain words (the patron's language), what is owed in ¥, where to go, and the one
thing the card may still do here (return books, or look at its loans), beside Finish.
Main thread only, like every screen; the words come from kiosk.core.circulation_text."""

from __future__ import annotations

from kivy.properties import AliasProperty, StringProperty

from kiosk.core import events as ev
from kiosk.core.circulation_text import STOP_NEXT, blocked_stop
from kiosk.core.events import Screen
from kiosk.ui.screens.base import KioskScreen


class BlockedScreen(KioskScreen):
    heading = StringProperty("")
    reasons = StringProperty("")
    owed = StringProperty("")
    where = StringProperty("")
    next_text = StringProperty("")  # "" when Finish is all there is
    next_to = StringProperty("")
    portrait = AliasProperty(lambda self: self.height > self.width, bind=("size",))

    def show(self, view) -> None:
        super().show(view)
        patron = view.circulation.patron
        if view.screen.value != self.name or patron is None:
            return
        tr, lang = self.tr, view.language
        words = blocked_stop(patron, tr, lang)
        self.heading, self.owed, self.where = words.heading, words.owed, words.where
        self.reasons = "\n".join(words.reasons)
        step = patron.next_step
        self.next_to = step.value if step is not None else ""
        self.next_text = tr(lang, STOP_NEXT[step.value]) if step is not None else ""

    def go_on(self) -> None:
        if self.next_to:
            self.send(ev.Navigate(Screen(self.next_to)))

    def finish(self) -> None:
        self.send(ev.EndSession())
