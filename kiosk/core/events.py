"""What the core hears (events) and what it asks the outside to do (effects).

Events from drivers (`drivers.events.BarcodeRead`, `DeviceStatus`) arrive on the same path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Screen(StrEnum):
    ATTRACT = "attract"
    HOME = "home"
    BORROW = "borrow"
    RETURN = "return"
    EBOOKS = "ebooks"
    EBOOK_SEARCH = "ebook_search"
    EBOOK_TITLE = "ebook_title"
    ACCOUNT = "account"
    ADMIN_PIN = "admin_pin"
    ADMIN = "admin"


# Flows that later issues build: their screens say so plainly.
COMING_LATER = frozenset({Screen.BORROW, Screen.RETURN, Screen.ACCOUNT})
EBOOK_SCREENS = frozenset({Screen.EBOOKS, Screen.EBOOK_SEARCH, Screen.EBOOK_TITLE})


# --- events from the screen ---------------------------------------------------------------

@dataclass(frozen=True)
class Touch:
    """Any touch anywhere: the patron is still there."""


@dataclass(frozen=True)
class Start:
    """The attract screen was touched."""


@dataclass(frozen=True)
class Navigate:
    to: Screen


@dataclass(frozen=True)
class EndSession:
    """The patron pressed Finish."""


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class AdminGesture:
    """The long press in the corner that asks for the staff PIN."""


@dataclass(frozen=True)
class PinSubmitted:
    pin: str


@dataclass(frozen=True)
class ShowShelf:
    """Browse one shelf of e-books: "new", "popular" or a category key."""
    shelf: str


@dataclass(frozen=True)
class OpenSearch:
    pass


@dataclass(frozen=True)
class SearchTyped:
    """The search text as it stands after a key on the on-screen keyboard."""
    query: str


@dataclass(frozen=True)
class OpenTitle:
    title_id: str


@dataclass(frozen=True)
class QrShown:
    """The title page drew its download QR code, or could not (`outcome` says why)."""
    title_id: str
    outcome: str = "ok"


@dataclass(frozen=True)
class Back:
    """The back button of an e-book screen."""


@dataclass(frozen=True)
class EbookDownloaded:
    """The download server sent a whole file, or refused a link (`outcome` says why)."""
    title_id: str
    outcome: str


@dataclass(frozen=True)
class RefreshStatus:
    pass


@dataclass(frozen=True)
class RestartRequested:
    pass


@dataclass(frozen=True)
class StatusArrived:
    report: Any  # kiosk.status.StatusReport


@dataclass(frozen=True)
class Tick:
    """Time passed; the idle timer and notices look at the clock."""


# --- effects ------------------------------------------------------------------------------

@dataclass(frozen=True)
class JournalAppend:
    kind: str
    outcome: str
    item: str | None = None
    title: str | None = None
    patron: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GatherStatus:
    """Collect the admin screen's status on a background thread."""


@dataclass(frozen=True)
class RestartApp:
    pass
