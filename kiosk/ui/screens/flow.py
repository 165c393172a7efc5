"""What the borrow, return and account screens share: the book rows, the patron's summary,
the banner when the ILS is away, and Back / Finish. Main thread only, like every screen.

Lists are RecycleViews fed plain dicts, rebuilt only when the core's circulation view or the
language changed.
"""

from __future__ import annotations

from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from kiosk.core import events as ev
from kiosk.core.circulation_text import line_status, line_title, patron_summary
from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen

TONES = {  # the stripe at a row's left: how it went, at a glance
    "busy": (0.55, 0.55, 0.55, 1), "ok": (0.2, 0.55, 0.3, 1), "listed": (0.3, 0.35, 0.6, 1),
    "offline": (0.85, 0.55, 0.1, 1), "refused": (0.75, 0.3, 0.2, 1), "staff": (0.8, 0.1, 0.1, 1),
}
BANNERS = {
    "offline": N_("The library system is away: books are accepted now and confirmed later."),
    "unavailable": N_("The library system cannot be reached right now. Please ask staff."),
    "not_set_up": N_("Borrowing and returning are not set up at this kiosk. Please ask at the "
                     "lending desk."),
}
MESSAGES = {  # what identifying (or fetching the account) ran into
    "unknown_card": N_("This card is not known to the library. Please ask staff."),
    "wrong_pin": N_("Wrong PIN. Please try again."),
    "pin_locked": N_("Too many wrong PINs. Please ask staff."),
    "unavailable": BANNERS["unavailable"],
    "ils_error": N_("The library system did not answer properly. Please ask staff."),
    "not_set_up": BANNERS["not_set_up"],
    "card_length": N_("A card number has {length} digits. Please check it and type it again."),
    "card_invalid": N_("That is not a library card number. Please check it and type it again."),
}
LEFT_ON_PAD = N_("{count} item(s) on the pad were left by the last reader. To return or borrow "
                 "them, lift them off and place them again.")


class BookRow(BoxLayout):
    """One book: its title, how it went, and on the account screen a Renew button."""
    title = StringProperty("")
    detail = StringProperty("")
    tone = ColorProperty(TONES["busy"])
    item_id = StringProperty("")
    renew = BooleanProperty(False)
    renew_text = StringProperty("")
    send = ObjectProperty(None)

    def renew_pressed(self) -> None:
        if self.send and self.renew:
            self.send(ev.Renew(self.item_id))


class FlowScreen(KioskScreen):
    flow = "borrow"  # borrow, return, account: which words the rows use
    banners = BANNERS
    newest_first = True  # the book just placed is the one the patron looks for
    rows = ListProperty([])  # RecycleView data
    summary = StringProperty("")
    banner = StringProperty("")
    busy = BooleanProperty(False)
    may_leave = BooleanProperty(True)
    has_lines = BooleanProperty(False)
    left_text = StringProperty("")  # the last patron's items still on the pad
    _shown: tuple | None = None

    def show(self, view) -> None:
        super().show(view)
        circ = view.circulation
        if view.screen.value != self.name:
            return  # the lines are another flow's
        key = (circ, view.language)
        if key == self._shown:
            return
        self._shown = key
        tr, lang = self.tr, view.language
        lines = reversed(circ.lines) if self.newest_first else circ.lines
        self.rows = [self.row(line, tr, lang) for line in lines]
        self.summary = "\n".join(patron_summary(circ.patron, tr, lang)) if circ.patron else ""
        self.left_text = tr(lang, LEFT_ON_PAD, count=circ.left_on_pad) if circ.left_on_pad else ""
        if circ.message in MESSAGES:  # the account could not be fetched
            self.banner = tr(lang, MESSAGES[circ.message])
        else:
            self.banner = tr(lang, self.banners[circ.service]) \
                if circ.service in self.banners else ""
        self.busy, self.may_leave = circ.busy, circ.may_leave
        self.has_lines = bool(circ.lines)

    def row(self, line, tr, lang) -> dict:
        # A refused book's one next step, when it is a button: its own loan, renewed here.
        renew = line.action == "renew" and line.status == "refused"
        return {"title": line_title(line, tr, lang),
                "detail": line_status(line, self.flow, tr, lang),
                "tone": TONES.get(line.status, TONES["busy"]), "item_id": line.item_id,
                "renew": renew, "renew_text": tr(lang, "Renew") if renew else "",
                "send": self.send}

    def finish(self) -> None:
        self.send(ev.FinishFlow())
