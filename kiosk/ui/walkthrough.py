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
READY_TIMEOUT_S = 5.0  # a step waiting for the demo's ILS or pad gives up after this
SAMPLE_TITLE = "000001"  # 红楼梦, the sample catalogue's first title
SAMPLE_TAG = "E004015000000001"  # 红楼梦 on the demo pad (drivers/sim/scenarios/demo.toml)


def steps(app):
    """(screenshot name, action before it, and optionally what to wait for before the picture)
    in the order a visitor would see them."""
    runtime = app.runtime
    send = runtime.send
    card = load_samples()[0]
    settled = lambda: not runtime.view.circulation.busy  # noqa: E731
    yield "01-attract", lambda: None
    yield "02-attract-english", lambda: send(ev.SetLanguage("en"))
    yield "03-home", lambda: send(ev.Start())
    yield "04-home-chinese", lambda: send(ev.SetLanguage("zh_CN"))
    yield "05-identify", lambda: send(ev.Navigate(Screen.BORROW))
    yield "06-identify-pin", lambda: runtime.sim_scanner().scan(card.code), \
        lambda: runtime.view.circulation.step == "pin"
    yield "07-borrow", lambda: send(ev.PatronPinTyped(card.pin)), \
        lambda: runtime.view.screen is not Screen.IDENTIFY
    yield "08-borrow-book", lambda: _place(runtime, SAMPLE_TAG), \
        lambda: runtime.view.circulation.lines and settled()
    # The book is lifted: one left lying there is the last patron's, and would not count.
    yield "09-receipt", lambda: (send(ev.FinishFlow()), _clear(runtime)), \
        lambda: not runtime.session.pad_uids
    yield "10-return", lambda: (send(ev.EndSession()), send(ev.Start()),
                                send(ev.Navigate(Screen.RETURN)), _place(runtime, SAMPLE_TAG)), \
        lambda: runtime.view.circulation.lines and settled()
    yield "11-ebooks", lambda: (send(ev.FinishFlow()), send(ev.EndSession()), _clear(runtime),
                                send(ev.Start()), send(ev.Navigate(Screen.EBOOKS)))
    yield "12-ebooks-search", lambda: (send(ev.OpenSearch()), send(ev.SearchTyped("hlm")))
    yield "13-ebook-title", lambda: send(ev.OpenTitle(SAMPLE_TITLE))
    yield "14-account-pin", lambda: (send(ev.Back()), send(ev.Back()), send(ev.Back()),
                                 send(ev.Navigate(Screen.ACCOUNT)),
                                 runtime.sim_scanner().scan(card.code)), \
        lambda: runtime.view.circulation.step == "pin"
    yield "15-account", lambda: send(ev.PatronPinTyped(card.pin)), \
        lambda: runtime.view.screen is Screen.ACCOUNT and settled()
    yield "16-still-there", lambda: app.clock.advance(runtime.config.idle.timeout_s + 1)
    yield "17-attract-after-timeout", lambda: app.clock.advance(
        runtime.config.idle.countdown_s + 1)
    yield "18-staff-pin", lambda: send(ev.AdminGesture())
    yield "19-admin", lambda: send(ev.PinSubmitted(DEMO_PIN))
    yield "20-admin-status", lambda: None
    # What patrons see when the journal cannot be written (told to the core as the runtime
    # would on a full data partition), and the kiosk back when writing works again.
    yield "21-out-of-service", lambda: (send(ev.EndSession()), send(ev.JournalFailed(
        "full", "the walkthrough shows the out-of-service screen")))
    yield "22-back-in-service", lambda: send(ev.JournalRestored(0.0))


def _place(runtime, uid: str) -> None:
    pad = runtime.sim_pad()
    if pad is not None:
        pad.place(uid)


def _clear(runtime) -> None:
    pad = runtime.sim_pad()
    if pad is not None:
        pad.clear()


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
            name, action, *ready = next(self._steps)
        except StopIteration:
            self.app.stop()
            return
        action()
        # Let the pump apply the step and a frame draw it before the picture is taken.
        wait = STEP_S * 2 if "admin" in name else STEP_S
        deadline = Clock.get_time() + READY_TIMEOUT_S
        Clock.schedule_once(lambda _dt: self._when_ready(name, ready[0] if ready else None,
                                                         deadline), wait)

    def _when_ready(self, name: str, ready, deadline: float) -> None:
        if ready is not None and not ready() and Clock.get_time() < deadline:
            Clock.schedule_once(lambda _dt: self._when_ready(name, ready, deadline), 0.1)
            return
        if ready is not None and not ready():
            log.warning("walkthrough: %s is not ready after %.0f s; taken as it is", name,
                        READY_TIMEOUT_S)
        self._shoot(name)

    def _shoot(self, name: str) -> None:
        taken = Window.screenshot(name=str(self.out_dir / f"{name}.png"))
        if taken:
            # Kivy numbers screenshots (name0001.png); keep the step's own name.
            target = self.out_dir / f"{name}.png"
            Path(taken).replace(target)
            self.saved.append(target)
            log.info("screenshot %s", target)
        Clock.schedule_once(self._next, 0)
