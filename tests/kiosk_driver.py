"""Drives the real Kivy app in the test process: frames, touches, keys, screenshots.

Touches go through Kivy's own input dispatch (EventLoop.post_dispatch_input), as the SDL
provider's would; the clock the session sees can be moved forward for the idle timer.
"""

from __future__ import annotations

import time
from pathlib import Path

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch


class KioskDriver:
    def __init__(self, app, shots: Path) -> None:
        self.app = app
        self.shots = shots

    # --- time -----------------------------------------------------------------------------

    def frames(self, n: int = 3) -> None:
        for _ in range(n):
            Clock.tick()
            EventLoop.idle()

    def settle(self, most: int = 20) -> None:
        """Frames until the window's layout stops moving (Kivy lays out on its frames, so a
        widget has no place before the first; a text's size can move it once more)."""
        seen = None
        for _ in range(most):
            self.frames(1)
            now = [(tuple(w.pos), tuple(w.size)) for top in Window.children for w in top.walk()]
            if now == seen:
                return
            seen = now
        raise AssertionError(f"the layout still moved after {most} frames")

    def wait(self, seconds: float) -> None:
        """Real time passing with frames drawn, for Kivy's own timers (a long press)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.frames(1)
            time.sleep(0.02)

    def until(self, condition, timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {condition}; the {self.screen!r} "
                                     f"screen is showing")
            self.frames(1)
            time.sleep(0.02)

    def advance(self, seconds: float) -> None:
        """Move the session's clock forward, then let the pump see it."""
        self.app.clock.advance(seconds)
        self.wait(0.15)

    def open_admin(self, runtime, pin: str):
        """The staff corner's gesture and the PIN, as staff give them; the admin screen once
        its status list is there (the checks, as staff see them on entering)."""
        from kiosk.core import events as ev
        runtime.send(ev.AdminGesture())
        runtime.send(ev.PinSubmitted(pin))
        self.until(lambda: self.screen == "admin")
        admin = self.current()
        self.until(lambda: admin.view.status is not None)
        return admin

    # --- what is on screen ----------------------------------------------------------------

    @property
    def screen(self) -> str:
        return self.app.screens.current

    def current(self):
        return self.app.screens.current_screen

    def widget(self, screen_name: str, widget_id: str):
        return self.app.screens.get_screen(screen_name).ids[widget_id]

    def shows(self, fragment: str) -> bool:
        """Whether any label in the window contains `fragment` (markup included)."""
        return any(fragment in text for text in self.texts())

    def texts(self) -> list[str]:
        """Every label's text in the window, overlays included."""
        found: list[str] = []

        def walk(widget) -> None:
            if hasattr(widget, "text") and isinstance(widget.text, str) and widget.text:
                found.append(widget.text)
            for child in widget.children:
                walk(child)
        walk(self.app.screens.current_screen)
        for child in self.app.root.children:
            if child is not self.app.root.ids.column:
                walk(child)
        walk(self.app.root.ids.stage)
        return found

    def screenshot(self, name: str) -> Path:
        self.frames(3)
        self.shots.mkdir(parents=True, exist_ok=True)
        taken = Path(Window.screenshot(name=str(self.shots / f"{name}.png")))
        target = self.shots / f"{name}.png"
        taken.replace(target)
        return target

    # --- touching -------------------------------------------------------------------------

    def tap_at(self, x: float, y: float) -> None:
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(3)

    def tap(self, widget) -> None:
        """A tap on `widget` once its screen shows, as a person waits for it: a tap while
        the screen before it still shows would land on that one instead."""
        from kivy.uix.screenmanager import Screen
        from kivy.uix.scrollview import ScrollView
        holder = widget
        while holder is not None and not isinstance(holder, Screen):
            holder = None if holder.parent is holder else holder.parent
        switching = (holder is not None and holder.manager is self.app.screens
                     and self.screen != holder.name)
        if switching:
            self.until(lambda: self.screen == holder.name)
        parent = widget.parent
        while parent is not None and not isinstance(parent, ScrollView):
            parent = None if parent.parent is parent else parent.parent  # the Window is its own
        if parent is not None:  # scroll it into sight first, as a person would
            parent.scroll_to(widget, padding=0, animate=False)
            self.frames(2)
        x, y = self._still_centre(widget) if switching else widget.to_window(*widget.center)
        self.tap_at(x, y)

    def _still_centre(self, widget, most: int = 10) -> tuple[float, float]:
        """Where the widget shows once it stays there for a frame: a screen just switched
        to may still be laying out, and a tap computed then lands where it is not (a frame
        more a tap, so only after a switch)."""
        centre = widget.to_window(*widget.center)
        for _ in range(most):
            self.frames(1)
            now = widget.to_window(*widget.center)
            if now == centre:
                return centre
            centre = now
        raise AssertionError(f"{widget} still moved after {most} frames")

    def touch_to_start(self) -> None:
        """A tap on the attract screen's invitation, which starts a session: not on a cover,
        which would open that title instead."""
        invite = self.app.screens.get_screen("attract").ids.invite
        self.tap(invite)
        self.until(lambda: self.screen == "home")

    def hold_at(self, x: float, y: float, seconds: float) -> None:
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.wait(seconds)
        touch.touch_up()
        self.frames(3)

    def key(self, key: int, codepoint: str | None = None) -> bool:
        """A key as SDL reports it; True when the app swallowed it."""
        return bool(Window.dispatch("on_key_down", key, 0, codepoint, []))

    def type_text(self, text: str) -> None:
        for char in text:
            self.key(ord(char), char)
        self.key(13)
        self.frames(3)
