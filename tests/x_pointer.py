"""Real X pointer input for the kiosk's own process: XTEST events through xdotool into its
window, each press followed by a wait for what it did (a screen drawn anew, a request seen),
never by a fixed sleep that a loaded machine outlasts. Also what the window shows (X-level
screenshots), for tests to wait on."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from PIL import Image, ImageChops

from tests import own_xvfb
from tests.waiting import wait_until

Condition = Callable[[], object]
PRESS_TIMEOUT_S = 30.0  # a press's effect on a loaded machine (a PIN check, a new screen)


class Pointer:
    def __init__(self, title: str, display: str | None = None,
                 app: subprocess.Popen | None = None) -> None:
        """On the window called `title` of `display` (default: $DISPLAY); `app`, the process
        that owns it, makes a wait fail at once when it stops."""
        self.title = title
        self.display = display or os.environ["DISPLAY"]
        self.app = app
        self.x, self.y, _, _ = own_xvfb.window(self.display, title)

    def picture(self) -> Image.Image:
        return own_xvfb.grab(self.display, self.title).convert("RGB")

    def press(self, at: tuple[int, int], what: str, *, until: Condition | None = None,
              when: Condition | None = None) -> None:
        """Press and release at `at` (window coordinates): once `when()` holds, if given (the
        target is on screen); then wait until `until()` holds, or by default until the window
        shows something other than before the press. That may be only the button's pressed
        tint, which is enough for a next press on the same screen (X delivers events in order);
        a press that brings another screen needs an `until` that the new screen shows."""
        if when is not None:
            self.wait(when, f"{what} to press")
        before = self.picture()
        self._xdotool("mousemove", str(self.x + at[0]), str(self.y + at[1]))
        self._xdotool("mousedown", "1")
        self._xdotool("mouseup", "1")
        self.wait(until or self.changed_from(before), f"effect of pressing {what}")

    def hold(self, at: tuple[int, int], what: str, *, until: Condition | None = None) -> None:
        """Press at `at` and keep the button down until `until()` holds, or by default until
        the window shows something else (a long press answered), then release."""
        before = self.picture()
        self._xdotool("mousemove", str(self.x + at[0]), str(self.y + at[1]))
        self._xdotool("mousedown", "1")
        try:
            self.wait(until or self.changed_from(before), f"effect of holding {what}")
        finally:
            self._xdotool("mouseup", "1")

    def wait(self, condition: Condition, what: str, timeout: float = PRESS_TIMEOUT_S) -> None:
        wait_until(condition, timeout, what, process=self.app, every=0.1)

    def changed_from(self, before: Image.Image) -> Condition:
        return lambda: ImageChops.difference(before, self.picture()).getbbox() is not None

    def shows(self, at: tuple[int, int], colour: tuple[int, int, int],
              tolerance: int = 3) -> Condition:
        """Whether the pixel at `at` has `colour` (a button's tint, once it is drawn)."""
        def showing() -> bool:
            pixel = self.picture().getpixel(at)
            return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))
        return showing

    def _xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": self.display},
                       check=True)
