"""The update window (`[updates] window = "01:00-05:00"`, local time): when a kiosk may
download a system update and restart into it. A window may pass midnight ("23:00-03:00");
"00:00-24:00" is the whole day. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

PATTERN = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$")
HINT = "HH:MM-HH:MM in local time, e.g. 01:00-05:00"


@dataclass(frozen=True)
class Window:
    start: int  # minutes after midnight
    end: int    # minutes after midnight, up to 24 * 60

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"

    def contains(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end  # passes midnight

    def end_after(self, moment: datetime) -> datetime:
        """When the window that `moment` is in ends (the same time zone as `moment`)."""
        end = datetime.combine(moment.date(), time(0), moment.tzinfo) + timedelta(minutes=self.end)
        return end if end > moment else end + timedelta(days=1)


def parse_window(text: str) -> Window:
    match = PATTERN.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window: expected {HINT}")
    start, end = (int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4]))
    if start > 24 * 60 or end > 24 * 60 or start == 24 * 60:
        raise ValueError(f"{text!r}: a time of day is from 00:00 to 24:00 (the end only)")
    if start == end:
        raise ValueError(f"{text!r} is an empty window; for the whole day write 00:00-24:00")
    return Window(start, end)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
