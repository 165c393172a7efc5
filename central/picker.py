"""The kiosk picker of the figures and titles pages: the kiosks a reader may see, grouped by
library, and which of them a page's query chose. Pure; runs on the calling thread.

The picker is one `<select name="kiosk">` (central/templates/picker.html; static/picker.js
adds a text filter): "" chooses every kiosk, `library:NAME` a whole library, anything else a
kiosk by its id. A kiosk id never holds a colon (schemas.KioskId), so the two cannot be
confused. Older links still work: several `kiosk=` choose several kiosks, and the titles
page's `library=NAME` a library.
"""

from __future__ import annotations

from dataclasses import dataclass

from central.storage import Kiosk

LIBRARY = "library:"


@dataclass(frozen=True)
class Group:
    library: str
    kiosks: tuple[Kiosk, ...]

    @property
    def value(self) -> str:
        """The picker's value choosing this whole library."""
        return LIBRARY + self.library


@dataclass(frozen=True)
class Picked:
    kiosks: list[Kiosk]       # what was chosen
    values: tuple[str, ...]   # the query values that chose them, for the download links
    unknown: tuple[str, ...] = ()  # asked for but not a kiosk or library the reader may see

    def has(self, value: str) -> bool:
        return value in self.values

    @property
    def library(self) -> str:
        """The one library chosen whole, or ""."""
        if len(self.values) == 1 and self.values[0].startswith(LIBRARY):
            return self.values[0].removeprefix(LIBRARY)
        return ""


def groups(kiosks: list[Kiosk]) -> list[Group]:
    """The kiosks by library; libraries by name, kiosks by id (what staff type and read)."""
    by_library: dict[str, list[Kiosk]] = {}
    for kiosk in kiosks:
        by_library.setdefault(kiosk.library, []).append(kiosk)
    return [Group(library, tuple(sorted(found, key=lambda k: k.id)))
            for library, found in sorted(by_library.items())]


def pick(kiosks: list[Kiosk], asked: list[str], library: str = "") -> Picked:
    """What the query's `kiosk` values choose among `kiosks`: every kiosk when none was asked
    for, nothing when only unknown ones were (never more than was asked for). An older link's
    `library` the reader may not see is ignored, as it was before."""
    libraries = {k.library for k in kiosks}
    ids = {k.id for k in kiosks}
    values = [v for v in asked if v]
    if library in libraries:
        values.append(LIBRARY + library)

    def visible(value: str) -> bool:
        return value in ids or (value.startswith(LIBRARY)
                                and value.removeprefix(LIBRARY) in libraries)

    known = tuple(dict.fromkeys(v for v in values if visible(v)))
    unknown = tuple(dict.fromkeys(v for v in values if not visible(v)))
    if not values:
        return Picked(list(kiosks), ())
    chosen = [k for k in kiosks if k.id in known or LIBRARY + k.library in known]
    return Picked(chosen, known, unknown)
