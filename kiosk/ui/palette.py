"""The kiosk's shared colours, as normal and in the accessibility mode's high contrast.

kv reads them by name: widgets.kv imports each into kv's global names (`#:import INK
kiosk.ui.palette.INK`), and `use()` puts the other palette there, so the screens built after it
take those colours (kv reads a name once, when it builds a widget). A button's face goes through
`face()`, which darkens any tint in high contrast until its white text stands out 7:1. Main
(Kivy) thread only.
"""

from __future__ import annotations

from kivy.lang import global_idmap

from kiosk.ui.layout_check import contrast

RGBA = tuple[float, float, float, float]
HIGH_CONTRAST_RATIO = 7.0  # WCAG's enhanced contrast (AAA) for text of any size

NORMAL: dict[str, RGBA] = {
    "INK": (0.12, 0.18, 0.23, 1),  # text on paper
    "PAPER": (0.96, 0.95, 0.91, 1),
    "TEAL": (0.06, 0.30, 0.36, 1),  # the attract screen and the screens' top bars
    "SOFT": (0.8, 0.88, 0.9, 1),  # quieter text on teal
    "INVITE": (1, 0.85, 0.45, 1),  # "touch the screen to start", on teal
    "AMBER": (0.68, 0.34, 0.04, 1),  # the language switch (4.6:1 under white)
    "DISABLED_FACE": (0.8, 0.8, 0.78, 1),
    "DISABLED_TEXT": (0.3, 0.3, 0.3, 1),
    "ACCESS_BLUE": (0.0, 0.25, 0.6, 1),  # the accessibility symbol's blue, under white text
    "NOTICE_BOX": (0.02, 0.19, 0.23, 1),  # the library's notices, on teal
    "ROW": (0.93, 0.92, 0.87, 1),  # a book's row, a search result: ink on it
    "QUIET": (0.25, 0.3, 0.35, 1),  # a row's second line, the search's hint
    "HINT": (0.35, 0.4, 0.45, 1),  # an empty list's hint, on paper
    "ATTENTION": (0.6, 0.2, 0.0, 1),  # the last patron's books left on the pad
    "BANNER": (0.75, 0.35, 0.0, 1),  # under white: the ILS away or not set up, offline
    "ERROR": (0.7, 0.15, 0.1, 1),  # a wrong card number, a blocked card, on paper
    "COVER": (0.29, 0.4, 0.46, 1),  # a missing cover, its initial in white
    "NOTICE_BAR": (0.15, 0.15, 0.15, 0.9),  # the root's notice line, under white
}
HIGH_CONTRAST: dict[str, RGBA] = {
    "INK": (0, 0, 0, 1),
    "PAPER": (1, 1, 1, 1),
    "TEAL": (0.02, 0.13, 0.16, 1),
    "SOFT": (1, 1, 1, 1),
    "INVITE": (1, 0.88, 0.4, 1),
    "AMBER": (0.45, 0.2, 0.0, 1),
    "DISABLED_FACE": (0.85, 0.85, 0.85, 1),
    "DISABLED_TEXT": (0.1, 0.1, 0.1, 1),
    "ACCESS_BLUE": (0.0, 0.2, 0.5, 1),
    "NOTICE_BOX": (0, 0, 0, 1),
    "ROW": (0.94, 0.94, 0.94, 1),
    "QUIET": (0.12, 0.12, 0.12, 1),
    "HINT": (0.2, 0.2, 0.2, 1),
    "ATTENTION": (0.4, 0.12, 0.0, 1),
    "BANNER": (0.42, 0.18, 0.0, 1),
    "ERROR": (0.5, 0.06, 0.03, 1),
    "COVER": (0.1, 0.16, 0.2, 1),
    "NOTICE_BAR": (0, 0, 0, 1),
}
# What widgets.kv imports: the normal palette, until use() says otherwise.
(INK, PAPER, TEAL, SOFT, INVITE, AMBER, DISABLED_FACE, DISABLED_TEXT, ACCESS_BLUE,
 NOTICE_BOX, ROW, QUIET, HINT, ATTENTION, BANNER, ERROR, COVER, NOTICE_BAR) = NORMAL.values()
_high = False


def use(*, high_contrast: bool) -> None:
    """The palette for the screens built from now on."""
    global _high
    _high = high_contrast
    global_idmap.update(HIGH_CONTRAST if high_contrast else NORMAL)


def colour(name: str) -> RGBA:
    """`name`'s colour in the palette in use, for a widget restyled in place (not rebuilt)."""
    return (HIGH_CONTRAST if _high else NORMAL)[name]


def face(tint, pressed: bool = False) -> RGBA:
    """A button's background under white text: its tint, darker while pressed; in high
    contrast, darkened further until the text stands out 7:1."""
    r, g, b = tint[0], tint[1], tint[2]
    if _high:
        while contrast((1, 1, 1, 1), (r, g, b, 1)) < HIGH_CONTRAST_RATIO:
            r, g, b = r * 0.9, g * 0.9, b * 0.9
    if pressed:
        r, g, b = r * 0.7, g * 0.7, b * 0.7
    return (r, g, b, 1)

