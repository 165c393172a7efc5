"""A headless tour of the screens for machines without a display: a screenshot of each.

Drives the running app through the core's own events, one step per few frames, then stops it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.demo import DEMO_PIN, load_samples

log = logging.getLogger(__name__)
STEP_S = 0.4
SAMPLE_TITLE = "000001"  # 红楼梦, the sample catalogue's first title


def steps(app):
    """(screenshot name, action before it) in the order a visitor would see them."""
    send = app.runtime.send
    card = load_samples()[0].code
    yield "01-attract", lambda: None
    yield "02-attract-english", lambda: send(ev.SetLanguage("en"))
    yield "03-home", lambda: send(ev.Start())
    yield "04-home-chinese", lambda: send(ev.SetLanguage("zh_CN"))
    yield "05-card-scanned", lambda: app.runtime.sim_scanner().scan(card)
    for number, flow in enumerate((Screen.BORROW, Screen.RETURN, Screen.EBOOKS)):
        yield f"0{6 + number}-{flow.value}", lambda f=flow: (send(ev.Navigate(Screen.HOME)),
                                                            send(ev.Navigate(f)))
    yield "09-ebooks-search", lambda: (send(ev.OpenSearch()), send(ev.SearchTyped("hlm")))
    yield "10-ebook-title", lambda: send(ev.OpenTitle(SAMPLE_TITLE))
    yield "11-account", lambda: (send(ev.Back()), send(ev.Back()), send(ev.Back()),
                                 send(ev.Navigate(Screen.ACCOUNT)))
    yield "12-still-there", lambda: app.clock.advance(app.runtime.config.idle.timeout_s + 1)
    yield "13-attract-after-timeout", lambda: app.clock.advance(
        app.runtime.config.idle.countdown_s + 1)
    yield "14-staff-pin", lambda: send(ev.AdminGesture())
    yield "15-admin", lambda: send(ev.PinSubmitted(DEMO_PIN))
    yield "16-admin-status", lambda: None


class Walkthrough:
    def __init__(self, app, out_dir: Path) -> None:
        self.app = app
        self.out_dir = out_dir
        self.saved: list[Path] = []
        self._steps = iter(steps(app))

    def start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        Clock.schedule_once(self._next, STEP_S)

    def _next(self, _dt: float) -> None:
        try:
            name, action = next(self._steps)
        except StopIteration:
            self.app.stop()
            return
        action()
        # Let the pump apply the step and a frame draw it before the picture is taken.
        Clock.schedule_once(lambda _dt: self._shoot(name), STEP_S * 2 if "admin" in name else STEP_S)

    def _shoot(self, name: str) -> None:
        taken = Window.screenshot(name=str(self.out_dir / f"{name}.png"))
        if taken:
            # Kivy numbers screenshots (name0001.png); keep the step's own name.
            target = self.out_dir / f"{name}.png"
            Path(taken).replace(target)
            self.saved.append(target)
            log.info("screenshot %s", target)
        Clock.schedule_once(self._next, 0)
