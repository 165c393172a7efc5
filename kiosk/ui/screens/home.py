"""The home screen: Borrow, Return, E-books, My account, the accessibility switch, and Finish."""

from kivy.properties import BooleanProperty

from kiosk.ui.screens.base import KioskScreen


class HomeScreen(KioskScreen):
    accessible = BooleanProperty(False)  # the session's accessibility mode, as the core says

    def show(self, view) -> None:
        super().show(view)
        self.accessible = view.accessible
