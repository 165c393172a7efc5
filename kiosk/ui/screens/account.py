"""My account: the patron's loans with their due dates; renew one, or all of them."""

from kivy.properties import BooleanProperty

from kiosk.core import events as ev
from kiosk.ui.screens.flow import BANNERS, FlowScreen


class AccountScreen(FlowScreen):
    flow = "account"
    newest_first = False  # loans in the ILS's order
    # Renewals need the ILS: offline mode takes books, not renewals.
    banners = {**BANNERS, "offline": BANNERS["unavailable"]}
    can_renew = BooleanProperty(False)

    def show(self, view) -> None:
        circ = view.circulation
        if view.screen.value != self.name:
            return super().show(view)
        self.can_renew = bool(circ.patron and circ.patron.can_renew and not circ.busy and any(
            line.status == "listed" for line in circ.lines))
        super().show(view)

    def row(self, line, tr, lang) -> dict:
        row = super().row(line, tr, lang)
        patron = self.view.circulation.patron if self.view else None
        row["renew"] = line.status == "listed" and bool(patron and patron.can_renew)
        row["renew_text"] = tr(lang, "Renew")
        return row

    def renew_all(self) -> None:
        self.send(ev.Renew())
