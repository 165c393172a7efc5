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
MAX_DETAILS = 4  # what fits under the headings on a 7-inch 800x480 panel


class OutOfServiceNotice(RelativeLayout):
    translator = ObjectProperty(None)
    heading = StringProperty("")  # a msgid of kiosk.ui.notice.HEADINGS
    advice = StringProperty("")   # a msgid of kiosk.ui.notice.ADVICE
    more = NumericProperty(0)     # detail lines left out for want of room

    def show(self, notice: Notice) -> None:
        self.heading = HEADINGS[notice.kind]
        self.advice = ADVICE[notice.kind]
        box = self.ids.details
        box.clear_widgets()
        for line in notice.details[:MAX_DETAILS]:
            box.add_widget(Factory.OutOfServiceDetail(text=line))
        self.more = max(0, len(notice.details) - MAX_DETAILS)

    def tr(self, lang: str, msgid: str, **args: object) -> str:
        return self.translator.tr(lang, msgid, **args) if self.translator and msgid else msgid

    def more_text(self, more: int) -> str:
        return (f"{self.tr('zh_CN', MORE, count=more)}  {self.tr('en', MORE, count=more)}"
                if more else "")
