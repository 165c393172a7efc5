"""The borrow screen: the patron's summary, then each book placed or scanned, with its due date
or why it cannot be lent."""

from kiosk.ui.screens.flow import FlowScreen


class BorrowScreen(FlowScreen):
    flow = "borrow"
