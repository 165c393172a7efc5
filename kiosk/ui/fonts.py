"""Finds a font that draws Chinese and makes it Kivy's default; fails clearly without one."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from kiosk.errors import FontMissingError
from kiosk.ui import font_face

log = logging.getLogger(__name__)

# Debian's fonts-noto-cjk; the .ttc holds Simplified Chinese as its SC face.
KNOWN_PATHS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"),
)


def find_cjk_font() -> Path:
    for path in KNOWN_PATHS:
        if path.is_file():
            return path
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "sans-serif:lang=zh-cn"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    if out and Path(out).is_file() and "cjk" in out.lower():
        return Path(out)
    raise FontMissingError("no font that can draw Chinese was found: install the Debian "
                           "package fonts-noto-cjk (./setup.sh deps does)")


def use_cjk_font(cache_dir: Path) -> Path:
    """Register the CJK font, its Simplified Chinese face, as the default for every Label."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    path = font_face.simplified_chinese(find_cjk_font(), cache_dir)
    LabelBase.register(DEFAULT_FONT, str(path))
    log.info("font: %s", path)
    return path
