"""Makes a font that draws Chinese Kivy's default, and registers its monospaced face as `MONO`
(the receipt's preview); the lookup itself is common.fonts'."""

from __future__ import annotations

import logging
from pathlib import Path

from common.fonts import find_cjk_font
from kiosk.ui import font_face

log = logging.getLogger(__name__)
MONO = "KioskMono"  # kv: `font_name: 'KioskMono'`


def use_cjk_font(cache_dir: Path) -> Path:
    """Register the CJK font, its Simplified Chinese face, as the default for every Label, and
    its monospaced face as `MONO` (the default font again where the package has none)."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    found = find_cjk_font()
    path = font_face.simplified_chinese(found, cache_dir)
    LabelBase.register(DEFAULT_FONT, str(path))
    mono = font_face.monospaced_chinese(found, cache_dir)
    if mono is None:
        log.warning("font: %s has no monospaced Chinese face; receipts show in %s", found, path)
    LabelBase.register(MONO, str(mono or path))
    log.info("font: %s, monospaced %s", path, mono or path)
    return path
