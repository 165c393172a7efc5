"""The attract screen: library name, date and time, "touch to start", both languages at once."""

from __future__ import annotations

import datetime as dt

from kivy.clock import Clock
from kivy.properties import StringProperty

from kiosk.ui.screens.base import KioskScreen


class AttractScreen(KioskScreen):
    name_zh = StringProperty("")
    name_en = StringProperty("")
    date_zh = StringProperty("")
    date_en = StringProperty("")
    time_text = StringProperty("")

    def on_pre_enter(self, *args) -> None:
        self._tick(0)
        self._clock = Clock.schedule_interval(self._tick, 1.0)

    def on_leave(self, *args) -> None:
        self._clock.cancel()

    def _tick(self, _dt: float) -> None:
        if not self.translator:
            return
        now = dt.datetime.now()
        self.date_zh, self.time_text = self.translator.date_time("zh_CN", now)
        self.date_en, _ = self.translator.date_time("en", now)
