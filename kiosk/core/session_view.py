"""What the session runs by (`Settings`) and what it shows (`View`, with its e-book part); the
circulation's part of both is in circulation_view.py. Frozen values, pure: the session and its
flows (through `flow_port.SessionPort`) replace them, the screens read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from kiosk.core.circulation_view import CirculationSettings, CirculationView
from kiosk.core.events import Screen


@dataclass(frozen=True)
class EbookView:
    shelf: str = "new"  # "new", "popular" or a category key
    query: str = ""
    title_id: str | None = None
    title_from: Screen = Screen.EBOOKS  # where Back from the title page goes
    searched: bool = False  # a title was opened from this search's results


@dataclass(frozen=True)
class Settings:
    """What the session runs by. These defaults are the config's too: kiosk.config reads them
    for its [idle], [kiosk] and [admin] options (whole seconds there, hence int literals)."""
    idle_timeout_s: float = 60
    countdown_s: float = 15
    language: str = "zh_CN"
    languages: tuple[str, ...] = ("zh_CN", "en")
    pin_hash: str = ""  # empty: no staff PIN is set, the admin screen cannot be opened
    max_pin_attempts: int = 5
    lockout_s: float = 300
    circulation: CirculationSettings = field(default_factory=CirculationSettings)


@dataclass(frozen=True)
class Notice:
    """A short message on the current screen: a message id and its arguments."""
    message: str
    args: Mapping[str, str] = field(default_factory=dict)
    shown_at: float = 0.0


@dataclass(frozen=True)
class DeviceState:
    state: str
    detail: str
    since: float  # the runtime's monotonic clock, when the state began
    faults: int = 0  # unusable input since the kiosk started (garbage, bad frames)


@dataclass(frozen=True)
class OutOfService:
    """Why the kiosk takes no patrons: the journal cannot be written (`cause` as in
    `kiosk.errors.JOURNAL_CAUSES`), since when on the session's clock."""
    cause: str
    since: float


@dataclass(frozen=True)
class Farewell:
    """The goodbye screen's words: thanks, and "take your card" for a physical card; shown
    until `until` on the session's clock."""
    take_card: bool
    until: float


@dataclass(frozen=True)
class View:
    screen: Screen = Screen.ATTRACT
    language: str = "zh_CN"
    countdown: int | None = None  # seconds left while asking "still there?"
    notice: Notice | None = None
    pin_message: str | None = None  # "wrong", "locked", "no_pin", "checking"
    pin_wait_s: int | None = None  # seconds left of the staff PIN's lockout, while "locked"
    devices: Mapping[str, DeviceState] = field(default_factory=dict)
    status: Any = None  # the last kiosk.status.StatusReport
    uploading: bool = False  # staff's "Upload now" is running
    upload_result: Any = None  # what came of it: the last ev.UploadFinished
    ebooks: EbookView = field(default_factory=EbookView)
    circulation: CirculationView = field(default_factory=CirculationView)
    out_of_service: OutOfService | None = None
    farewell: Farewell | None = None  # on the goodbye screen
    accessible: bool = False  # the patron asked for the accessibility mode; ends with the session

    @property
    def offline_devices(self) -> tuple[str, ...]:
        """Devices patrons cannot use right now, for the banner on their screens."""
        return tuple(sorted(name for name, device in self.devices.items()
                            if device.state != "connected"))
