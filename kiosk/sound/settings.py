"""`SoundSettings`: how loud, when quieter, whether to speak; and the `[sound]` config section
itself (kiosk.config loads the section straight into this dataclass and checks each value
against its field's `min`, `max` and `pattern`, as it does `[ils]`). Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from common.toml_options import option
from kiosk.update.window import HINT, Window, parse_window

QUIET_HOURS = re.compile(r"^(\d\d:\d\d-\d\d:\d\d)?$")


@dataclass(frozen=True)
class SoundSettings:
    # Percent of full loudness for tones and prompts; 0 is silent.
    volume: int = option(70, min=0, max=100)
    # Local time when the kiosk is quieter ("22:00-07:00" passes midnight); "" means never.
    quiet_hours: str = option("", pattern=QUIET_HOURS, hint=f"{HINT}, or \"\" for none")
    # The loudness in quiet hours (never above `volume`); 0 mutes tones and voice then.
    quiet_volume: int = option(30, min=0, max=100)
    # Spoken prompts; false leaves the tones alone.
    voice: bool = True

    @property
    def quiet_window(self) -> Window | None:
        return parse_window(self.quiet_hours) if self.quiet_hours else None

    def percent_at(self, moment: datetime) -> int:
        """The loudness at `moment` (local time), in percent."""
        window = self.quiet_window
        if window is not None and window.contains(moment):
            return min(self.volume, self.quiet_volume)
        return self.volume
