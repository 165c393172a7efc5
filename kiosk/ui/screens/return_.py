"""The return screen: no card needed; each book placed or scanned shows as returned, with its
sort bin or a "please hand to staff" when the ILS says so."""

from kiosk.ui.screens.flow import FlowScreen


class ReturnScreen(FlowScreen):
    flow = "return"
