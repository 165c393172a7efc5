"""Covers drawn for titles that come without one (a PDF, the sample catalogue): a coloured card
per category with the title in large Chinese type, the author below, and a simple motif."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from common.fonts import find_cjk_font
from content.errors import ContentError

COVER_SIZE = (360, 480)
PALETTES = {  # category -> (background, accent, text)
    "classics": ((122, 30, 36), (214, 170, 92), (250, 240, 220)),
    "literature_art": ((38, 70, 110), (236, 196, 120), (245, 245, 240)),
    "history": ((92, 64, 40), (200, 160, 100), (250, 238, 215)),
    "health": ((46, 110, 80), (180, 220, 170), (245, 250, 240)),
    "children": ((240, 170, 60), (70, 150, 200), (60, 40, 30)),
    "science": ((30, 50, 80), (110, 200, 220), (235, 245, 250)),
    "life": ((200, 110, 90), (250, 220, 180), (255, 250, 245)),
    "economics": ((50, 60, 70), (210, 180, 90), (240, 240, 235)),
}
DEFAULT_PALETTE = ((70, 70, 80), (200, 200, 200), (250, 250, 250))


@functools.lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont:
    try:
        path = find_cjk_font()
    except Exception as e:
        raise ContentError(f"cannot draw covers: {e}") from None
    faces = 5 if path.suffix == ".ttc" else 1
    for index in range(faces):  # the Simplified Chinese face of a CJK collection
        font = ImageFont.truetype(str(path), size, index=index)
        if "SC" in " ".join(filter(None, font.getname())):
            return font
    return ImageFont.truetype(str(Path(path)), size)


def draw_cover(title: str, author: str, category: str,
               size: tuple[int, int] = COVER_SIZE) -> Image.Image:
    background, accent, ink = PALETTES.get(category, DEFAULT_PALETTE)
    width, height = size
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    seed = int(hashlib.sha256(title.encode("utf-8")).hexdigest()[:8], 16)
    _motif(draw, seed, size, accent)
    draw.rectangle((18, 18, width - 19, height - 19), outline=accent, width=3)
    lines = _wrap(title, 7 if len(title) > 8 else 5)
    font_size = min(64, (width - 70) // max(len(line) for line in lines))
    font = _font(font_size)
    y = height * 0.22
    for line in lines[:4]:
        draw.text((width / 2, y), line, font=font, fill=ink, anchor="mt")
        y += font_size * 1.25
    draw.line((width * 0.3, y + 10, width * 0.7, y + 10), fill=accent, width=2)
    draw.text((width / 2, height - 70), author[:16], font=_font(26), fill=ink, anchor="mm")
    return image


def _wrap(text: str, per_line: int) -> list[str]:
    text = text.strip() or "?"
    return [text[i:i + per_line] for i in range(0, len(text), per_line)]


def _motif(draw: ImageDraw.ImageDraw, seed: int, size: tuple[int, int], colour) -> None:
    """A few circles and bands, different for each title, always the category's colours."""
    width, height = size
    kind = seed % 3
    if kind == 0:
        for i in range(4):
            r = 40 + (seed >> (i * 3)) % 60
            cx, cy = (seed >> (i * 5)) % width, height - 60 - (seed >> (i * 4)) % 120
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=2)
    elif kind == 1:
        for i in range(6):
            y = height - 40 - i * 14
            draw.line((30, y, width - 30, y), fill=colour, width=1 + (seed >> i) % 3)
    else:
        step = 24 + seed % 16
        for x in range(-height, width, step):
            draw.line((x, height - 30, x + 80, height - 110), fill=colour, width=2)
