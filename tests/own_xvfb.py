"""An X server of the test's own (Xvfb), large enough for any kiosk panel, and real X-level
screenshots of a window on it (Pillow's ImageGrab over XCB): what the server shows."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
from PIL import Image, ImageGrab


def started(width: int = 2000, height: int = 2000) -> Iterator[OwnXvfb]:
    """For a fixture (`yield from started(...)`): an X server of the test's own, closed after;
    the test skipped when none can start here, and failed under CI, where one must."""
    try:
        server = OwnXvfb(width, height)
    except RuntimeError as e:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(e))
    try:
        yield server
    finally:
        server.close()


class OwnXvfb:
    def __init__(self, width: int = 2000, height: int = 2000) -> None:
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed (Debian: xvfb)")
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", "1", "-screen", "0", f"{width}x{height}x24", "-nolisten",
             "tcp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.display = ":" + self.process.stdout.readline().strip()

    def window(self, title: str, timeout: float = 30.0) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the window called `title`, once it is mapped."""
        return window(self.display, title, timeout)

    def grab(self, title: str) -> Image.Image:
        return grab(self.display, title)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def window(display: str, title: str, timeout: float = 30.0) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the window called `title` on `display`, once it is mapped."""
    deadline = time.monotonic() + timeout
    while True:
        info = subprocess.run(["xwininfo", "-display", display, "-name", title],
                              capture_output=True, text=True)
        if info.returncode == 0 and "IsViewable" in info.stdout:
            break
        assert time.monotonic() < deadline, f"no window {title!r}: {info.stderr}"
        time.sleep(0.2)
    x, y, width, height = (int(re.search(rf"{label}:\s+(-?\d+)", info.stdout).group(1))
                           for label in ("Absolute upper-left X", "Absolute upper-left Y",
                                         "Width", "Height"))
    return x, y, width, height


def grab(display: str, title: str) -> Image.Image:
    """What the X server shows of the window called `title` on `display`."""
    x, y, width, height = window(display, title)
    return ImageGrab.grab(bbox=(x, y, x + width, y + height), xdisplay=display)
