"""The home screen: Borrow, Return, E-books, My account, and Finish."""

from kiosk.ui.screens.base import KioskScreen


class HomeScreen(KioskScreen):
    pass
