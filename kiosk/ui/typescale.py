"""The kiosk's type scale and its few layout lengths, scaled once to the screen's shorter side.

The font is opened once for all sizes (kiosk/ui/shared_face.py), but every distinct size still
empties SDL_ttf's glyph cache when it follows another, so kv takes its sizes from this short
list, never from layout arithmetic.
"""

from __future__ import annotations

DESIGN_HEIGHT = 480  # the 7-inch 800x480 touchscreen the sizes were chosen on
BASE = {
    "caption": 15, "small": 17, "body": 22, "button": 26, "heading": 30, "title": 40,
    "display": 52, "clock": 64,
}
SIZES = dict(BASE)  # what kv reads: `#:import fs kiosk.ui.typescale.SIZES`, `fs['body']`
# Lengths in px on the 800x480 design screen, scaled as the type is, so that a layout grows with
# its text: a touch target is a finger's 9 mm (64 px on the 7-inch panel, kiosk.ui.layout_check
# holds every screen to it); "gap" pads and spaces bars and rows; an e-book's cover and its
# download code on the title page.
BASE_PX = {"target": 64, "gap": 8, "cover": 190, "code": 232}
PX = dict(BASE_PX)  # kv: `#:import px kiosk.ui.typescale.PX`, `height: px['target']`
# The accessibility mode's larger type: text only, so layouts keep their lengths and the text
# takes the room it has (at 800x480 body text is 29 px instead of 22).
ACCESSIBLE_FACTOR = 1.3


def configure(window_size: tuple[int, int], *, accessible: bool = False) -> None:
    """Scale the sizes for a larger screen, in quarter steps so that a few px make no new sizes.
    From the shorter side: a portrait panel's height would make every text too wide. Screens
    built after this call take the new sizes (kv reads them once, when it builds a widget)."""
    scale = max(1.0, round(min(window_size) / DESIGN_HEIGHT * 4) / 4)
    text = scale * (ACCESSIBLE_FACTOR if accessible else 1.0)
    SIZES.update({name: round(px * text) for name, px in BASE.items()})
    PX.update({name: round(px * scale) for name, px in BASE_PX.items()})
