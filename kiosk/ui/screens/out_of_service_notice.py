"""The out-of-service notice: the app cannot serve at all (its settings are wrong, or systemd
gave up starting it), shown by a small app of its own with no journal, devices or network.

It looks like the out-of-service screen (same backdrop, same lines, both languages at once,
Chinese first) and adds what is wrong, one line each, in English as the log has it.
"""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.relativelayout import RelativeLayout

from kiosk.i18n import N_
from kiosk.ui.notice import ADVICE, HEADINGS, Notice

MORE = N_("…and {count} more: see the kiosk's log")
MAX_DETAILS = 4  # at most; fewer when they do not fit the panel
SIDE = 32  # the column's margin left and right


class OutOfServiceNotice(RelativeLayout):
    translator = ObjectProperty(None)
    heading = StringProperty("")  # a msgid of kiosk.ui.notice.HEADINGS
    advice = StringProperty("")   # a msgid of kiosk.ui.notice.ADVICE
    more = NumericProperty(0)     # detail lines left out for want of room
    margin = NumericProperty(24)  # above and below the column

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._details: tuple[str, ...] = ()
        self._shown = 0
        self.ids.column.bind(minimum_height=self._fit)
        self.bind(height=self._fit)

    def show(self, notice: Notice) -> None:
        self.heading = HEADINGS[notice.kind]
        self.advice = ADVICE[notice.kind]
        self._details = notice.details
        self._fill(min(len(notice.details), MAX_DETAILS))

    def _fill(self, shown: int) -> None:
        self._shown = shown
        box = self.ids.details
        box.clear_widgets()
        for line in self._details[:shown]:
            box.add_widget(Factory.OutOfServiceDetail(text=line))
        self.more = len(self._details) - shown

    def _fit(self, *_args) -> None:
        """One detail line fewer while the column is taller than the panel (the text's size is
        known only once drawn, so this runs again as the lines take their heights)."""
        column, box = self.ids.column, self.ids.details
        laid_out = column.width == self.width - 2 * SIDE and all(
            line.width == column.width for line in box.children)  # wrapped at their width
        if laid_out and self._shown > 1 and column.minimum_height > self.height - 2 * self.margin:
            self._fill(self._shown - 1)

    def tr(self, lang: str, msgid: str, **args: object) -> str:
        return self.translator.tr(lang, msgid, **args) if self.translator and msgid else msgid

    def more_text(self, more: int) -> str:
        return (f"{self.tr('zh_CN', MORE, count=more)}  {self.tr('en', MORE, count=more)}"
                if more else "")
