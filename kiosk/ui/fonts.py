"""Makes a font that draws Chinese Kivy's default; the lookup itself is common.fonts'."""

from __future__ import annotations

import logging
from pathlib import Path

from common.fonts import find_cjk_font
from kiosk.ui import font_face

log = logging.getLogger(__name__)


def use_cjk_font(cache_dir: Path) -> Path:
    """Register the CJK font, its Simplified Chinese face, as the default for every Label."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = font_face.simplified_chinese(find_cjk_font(), cache_dir)
    LabelBase.register(DEFAULT_FONT, str(path))
    log.info("font: %s", path)
    return path
