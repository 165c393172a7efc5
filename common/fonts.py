"""Finds a font that draws Chinese, for the kiosk's screens and the content tools' covers: a path
search only (no Kivy, no Pillow), which fails clearly without one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from common.errors import FontMissingError

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
