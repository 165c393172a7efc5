"""What the attract screen invites with: which e-book covers, in which sets, and which of the
library's notices today.

Covers come from the catalogue on this kiosk (nothing is downloaded): the newest batch's titles
("new") in turn with the titles most viewed on this kiosk ("popular": the journal's e-book views,
which the library counts at start and as they happen; downloads are not counted in memory), the
catalogue's own order filling up when there are too few of both. Pure, without Kivy; the
screen calls it on the main thread when it comes up.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import zip_longest
from typing import Protocol, Sequence

from content.title import Title

POOL = 24  # covers taken in turn: a few sets on the largest panel


@dataclass(frozen=True)
class Cover:
    title_id: str
    title: str
    author: str
    path: str  # the cover's file on this kiosk; "" when the title has none
    badge: str  # "new", "popular", or "" for the catalogue's own order


class Shelves(Protocol):  # what kiosk.ebooks.library.EbookLibrary offers
    @property
    def available(self) -> bool: ...

    @property
    def version(self) -> str | None: ...

    def shelf(self, shelf: str, limit: int = ...) -> list[Title]: ...

    def path(self, relative: str) -> str: ...


class CoverPicker:
    """The covers to show now. The new and catalogue shelves are read once per catalogue
    version (thousands of titles); the popular one, which views change, every time."""

    def __init__(self, library: Shelves, pool: int = POOL) -> None:
        self.library = library
        self.pool = pool
        self._version: str | None = None
        self._new: list[Title] = []
        self._first: list[Title] = []

    def covers(self) -> list[Cover]:
        library = self.library
        if not library.available:
            return []
        if library.version != self._version:
            self._version = library.version
            self._new = library.shelf("new", self.pool)
            self._first = library.shelf("all", self.pool)
        popular = library.shelf("popular", self.pool)
        turns = [t for pair in zip_longest(((t, "new") for t in self._new),
                                           ((t, "popular") for t in popular)) for t in pair if t]
        chosen: dict[str, Cover] = {}
        for title, badge in [*turns, *((t, "") for t in self._first)]:
            if title.id not in chosen and len(chosen) < self.pool:
                chosen[title.id] = Cover(title.id, title.title, title.author,
                                         library.path(title.cover) if title.cover else "", badge)
        return list(chosen.values())


def cover_set(covers: Sequence[Cover], cells: int, step: int) -> list[Cover]:
    """The `step`th set of `cells` covers, going round; all of them when they fit at once."""
    if len(covers) <= cells:
        return list(covers)
    start = step * cells % len(covers)
    return [covers[(start + i) % len(covers)] for i in range(cells)]


MAX_ROWS = 3  # more would make a tall portrait panel a wall of stamps
SHRINK = 0.8  # covers may be this much smaller than their row allows, for one more in it


def grid(width: float, height: float, least: float, gap: float) -> tuple[int, int, float]:
    """(columns, rows, cover height) for covers of 3:4 filling `width` x `height`: as many rows
    as fit covers at least `least` px tall (at most MAX_ROWS), then as many columns as fit;
    none when not even one fits."""
    rows = min(MAX_ROWS, int((height + gap) // (least + gap)))
    if rows == 0 or width < least * 0.75:  # no room for a cover a finger can find
        return 0, 0, 0.0
    tall = (height + gap) / rows - gap
    columns = int((width + gap) // (tall * 0.75 + gap))
    if columns == 0:  # a narrow strip: covers as wide as it is
        return 1, rows, width / 0.75
    # One cover more when a little smaller ones fit it: no wide empty margins.
    smaller = ((width + gap) / (columns + 1) - gap) / 0.75
    if smaller >= max(least, tall * SHRINK):
        return columns + 1, rows, smaller
    return columns, rows, tall


@dataclass(frozen=True)
class NoticeText:
    zh: str
    en: str


def notices_on(notices: Sequence, day: str) -> list[NoticeText]:
    """The configured notices (kiosk.config.AttractNotice) that show on `day` (ISO date)."""
    return [NoticeText(n.zh, n.en) for n in notices if n.shows_on(day)]
