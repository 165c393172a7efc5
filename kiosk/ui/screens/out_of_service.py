"""The out-of-service screen: the journal cannot be written, so the kiosk takes no patrons.

Both languages at once (nobody can switch when nothing is touchable), what to tell staff, and
where books can be borrowed meanwhile. Staff still reach the admin screen through the corner.
"""

from __future__ import annotations

from kivy.properties import AliasProperty, StringProperty

from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen

BACKDROP = (0.36, 0.09, 0.07, 1)  # every out-of-service screen's colour, also the notice's
# What a patron can tell staff, by `kiosk.errors.JOURNAL_CAUSES`.
TELL_STAFF = {
    "full": N_("Please tell staff: the kiosk's data storage is full."),
    "read_only": N_("Please tell staff: the kiosk's data storage has become read-only."),
    "replaced": N_("Please tell staff: the kiosk's transaction journal was removed or "
                   "replaced."),
    "damaged": N_("Please tell staff: the kiosk's transaction journal is damaged."),
    "io": N_("Please tell staff: the kiosk's storage card failed."),
}


class OutOfServiceScreen(KioskScreen):
    cause = StringProperty("io")
    portrait = AliasProperty(lambda self: self.height > self.width, bind=("size",))

    def show(self, view) -> None:
        super().show(view)
        if view.out_of_service is not None:
            self.cause = view.out_of_service.cause

    def tell_staff(self, lang: str, cause: str) -> str:
        return self.tr(lang, TELL_STAFF.get(cause, TELL_STAFF["io"]))
