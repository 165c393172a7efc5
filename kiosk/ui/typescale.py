"""The kiosk's type scale: a few fixed text sizes, scaled once to the screen's shorter side.

Every distinct size makes SDL_ttf open the CJK font again (several MB each, kept for the life of
the process), so kv takes its sizes from this short list, never from layout arithmetic.
"""

from __future__ import annotations

DESIGN_HEIGHT = 480  # the 7-inch 800x480 touchscreen the sizes were chosen on
BASE = {
    "caption": 15, "small": 17, "body": 22, "button": 26, "heading": 30, "title": 40,
    "display": 52, "clock": 64,
}
SIZES = dict(BASE)  # what kv reads: `#:import fs kiosk.ui.typescale.SIZES`, `fs['body']`


def configure(window_size: tuple[int, int]) -> None:
    """Scale the sizes for a larger screen, in quarter steps so that a few px make no new sizes.
    From the shorter side: a portrait panel's height would make every text too wide."""
    scale = max(1.0, round(min(window_size) / DESIGN_HEIGHT * 4) / 4)
    SIZES.update({name: round(px * scale) for name, px in BASE.items()})
