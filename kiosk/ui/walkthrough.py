"""A headless tour of the screens for machines without a display: a screenshot of each.

Drives the running app through the core's own events, then stops it. Runs on the Kivy main
thread (Clock callbacks). Each picture waits until the step's screen has settled: its events
handled, the screen manager showing the core's screen alone (no transition under way, which
would draw two screens and two headers), and a few frames drawn since for its layout. The demo
tray is taken off, so the pictures show the screens as patrons see them, at the window's size
(`kiosk run --size`). It finishes with whatever devices are configured: a card is typed on the
keypad when there is no simulated scanner, and a step that needs what this kiosk lacks (a
simulated RFID pad, an ILS, the demo's staff PIN) is skipped with a line saying so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.pin import verify_pin
from kiosk.demo import DEMO_PIN, hooks, load_samples

log = logging.getLogger(__name__)
STEP_S = 0.4
READY_TIMEOUT_S = 5.0  # a step waiting for the demo's ILS or pad gives up after this
SETTLE_FRAMES = 3  # frames a settled screen is drawn before its picture: its layout's own
SAMPLE_TITLE = "000001"  # 红楼梦, the sample catalogue's first title
SAMPLE_TAG = "E004015000000001"  # 红楼梦 on the demo pad (drivers/sim/scenarios/demo.toml)

# What a step may need, and why it is skipped without it.
PAD, ILS, STAFF_PIN = "pad", "ils", "staff_pin"
MISSING = {PAD: "no simulated RFID pad to place a book on",
           ILS: "no library system ([ils] host) to identify the patron",
           STAFF_PIN: "the staff PIN is not the demo's, which the tour types"}


@dataclass(frozen=True)
class Step:
    name: str  # the screenshot's name
    action: Callable[[], object]
    ready: Callable[[], object] | None = None  # waited for (at most READY_TIMEOUT_S)
    needs: tuple[str, ...] = ()


def available(runtime) -> frozenset[str]:
    """What this kiosk offers the tour, from its runtime and config."""
    have = set()
    if hooks.sim_pad(runtime.drivers) is not None:
        have.add(PAD)
    if runtime.ils is not None:
        have.add(ILS)
    if verify_pin(DEMO_PIN, runtime.config.admin.pin_hash):
        have.add(STAFF_PIN)
    return frozenset(have)


def steps(app) -> list[Step]:
    """The steps in the order a visitor would see them."""
    runtime = app.runtime
    send = runtime.send
    card = load_samples()[0]
    settled = lambda: not runtime.view.circulation.busy  # noqa: E731
    present_card = lambda: _present_card(runtime, card.code)  # noqa: E731
    return [
        Step("01-attract", lambda: None),
        Step("02-attract-english", lambda: send(ev.SetLanguage("en"))),
        Step("03-home", lambda: send(ev.Start())),
        Step("04-home-chinese", lambda: send(ev.SetLanguage("zh_CN"))),
        Step("05-identify", lambda: send(ev.Navigate(Screen.BORROW))),
        Step("06-identify-pin", present_card, lambda: runtime.view.circulation.step == "pin",
             needs=(ILS,)),
        Step("07-borrow", lambda: send(ev.PatronPinTyped(card.pin)),
             lambda: runtime.view.screen is not Screen.IDENTIFY, needs=(ILS,)),
        Step("08-borrow-book", lambda: _place(runtime, SAMPLE_TAG),
             lambda: runtime.view.circulation.lines and settled(), needs=(ILS, PAD)),
        # The book is lifted: one left lying there is the last patron's, and would not count.
        Step("09-receipt", _in_turn(lambda: send(ev.FinishFlow()), lambda: _clear(runtime)),
             lambda: not runtime.session.pad_uids, needs=(ILS,)),
        Step("10-return", _in_turn(lambda: send(ev.EndSession()), lambda: send(ev.Start()),
                                   lambda: send(ev.Navigate(Screen.RETURN)),
                                   lambda: _place(runtime, SAMPLE_TAG)),
             lambda: runtime.view.circulation.lines and settled(), needs=(PAD,)),
        Step("11-ebooks", _in_turn(lambda: send(ev.FinishFlow()), lambda: send(ev.EndSession()),
                                   lambda: _clear(runtime), lambda: send(ev.Start()),
                                   lambda: send(ev.Navigate(Screen.EBOOKS)))),
        Step("12-ebooks-search", lambda: (send(ev.OpenSearch()), send(ev.SearchTyped("hlm")))),
        Step("13-ebook-title", lambda: send(ev.OpenTitle(SAMPLE_TITLE))),
        Step("14-account-pin", lambda: (send(ev.Back()), send(ev.Back()), send(ev.Back()),
                                        send(ev.Navigate(Screen.ACCOUNT)), present_card()),
             lambda: runtime.view.circulation.step == "pin", needs=(ILS,)),
        Step("15-account", lambda: send(ev.PatronPinTyped(card.pin)),
             lambda: runtime.view.screen is Screen.ACCOUNT and settled(), needs=(ILS,)),
        Step("16-still-there", lambda: app.clock.advance(runtime.config.idle.timeout_s + 1)),
        Step("17-session-timed-out", lambda: app.clock.advance(
            runtime.config.idle.countdown_s + 1)),
        Step("18-staff-pin", lambda: send(ev.AdminGesture())),
        # Never a wrong PIN typed on a real kiosk: it would count towards the staff lockout.
        Step("19-admin", lambda: send(ev.PinSubmitted(DEMO_PIN)), needs=(STAFF_PIN,)),
        Step("20-admin-status", lambda: None, needs=(STAFF_PIN,)),
        # What patrons see when the journal cannot be written (told to the core as the runtime
        # would on a full data partition), and the kiosk back when writing works again.
        Step("21-out-of-service", lambda: (send(ev.EndSession()), send(ev.JournalFailed(
            "full", "the walkthrough shows the out-of-service screen")))),
        Step("22-back-in-service", lambda: send(ev.JournalRestored(0.0))),
    ]


def drawn_screens(app) -> list[str]:
    """The screens the screen manager draws now: one, or two while a transition runs."""
    return [child.name for child in app.screens.children]


def settled(app) -> bool:
    """Whether the window shows the core's screen alone, every event sent so far handled."""
    manager = app.screens
    return (app.runtime.events.empty() and manager.current == app.runtime.view.screen.value
            and not manager.transition.is_active and len(drawn_screens(app)) == 1)


def _present_card(runtime, code: str) -> None:
    """The sample card through the simulated scanner, else typed on the identify keypad."""
    scanner = hooks.sim_scanner(runtime.drivers)
    if scanner is not None:
        scanner.scan(code)
    else:
        runtime.send(ev.CardNumberTyped(code))


def _in_turn(*actions: Callable[[], object]) -> Callable[[], None]:
    """One step's action made of several, done in this order."""
    def act() -> None:
        for action in actions:
            action()
    return act


def _place(runtime, uid: str) -> None:
    pad = hooks.sim_pad(runtime.drivers)
    if pad is not None:
        pad.place(uid)


def _clear(runtime) -> None:
    pad = hooks.sim_pad(runtime.drivers)
    if pad is not None:
        pad.clear()


class Walkthrough:
    def __init__(self, app, out_dir: Path) -> None:
        self.app = app
        self.out_dir = out_dir
        self.saved: list[Path] = []
        self.skipped: list[tuple[str, str]] = []  # (step, why)
        self._steps = iter(steps(app))
        self._have: frozenset[str] = frozenset()

    def start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._have = available(self.app.runtime)
        tray = getattr(self.app, "tray", None)
        if tray is not None and tray.parent is not None:
            tray.parent.remove_widget(tray)  # the screens as patrons see them
        Clock.schedule_once(self._next, STEP_S)

    def _next(self, _dt: float) -> None:
        for step in self._steps:
            lacking = [need for need in step.needs if need not in self._have]
            if not lacking:
                break
            why = MISSING[lacking[0]]
            self.skipped.append((step.name, why))
            log.warning("walkthrough: %s skipped: %s", step.name, why)
        else:
            self.app.stop()
            return
        step.action()
        # Let the pump apply the step and a frame draw it before the picture is taken.
        wait = STEP_S * 2 if "admin" in step.name else STEP_S
        deadline = Clock.get_time() + wait + READY_TIMEOUT_S
        Clock.schedule_once(lambda _dt: self._when_ready(step, deadline, None), wait)

    def _when_ready(self, step: Step, deadline: float, since: int | None) -> None:
        """Shoot once the step's condition holds and the screen has been settled for
        SETTLE_FRAMES frames (`since`: the frame it was first seen settled); at the deadline,
        as it is, with a warning."""
        if (step.ready is None or step.ready()) and settled(self.app):
            since = Clock.frames if since is None else since
            if Clock.frames >= since + SETTLE_FRAMES:
                self._shoot(step.name)
                return
        else:
            since = None
        if Clock.get_time() >= deadline:
            log.warning("walkthrough: %s has not settled after %.0f s (showing %s); taken as "
                        "it is", step.name, READY_TIMEOUT_S, ", ".join(drawn_screens(self.app)))
            self._shoot(step.name)
            return
        Clock.schedule_once(lambda _dt: self._when_ready(step, deadline, since), 0)

    def _shoot(self, name: str) -> None:
        taken = Window.screenshot(name=str(self.out_dir / f"{name}.png"))
        if taken:
            # Kivy numbers screenshots (name0001.png); keep the step's own name.
            target = self.out_dir / f"{name}.png"
            Path(taken).replace(target)
            self.saved.append(target)
            log.info("screenshot %s", target)
        Clock.schedule_once(self._next, 0)
