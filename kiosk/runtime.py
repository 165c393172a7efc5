"""The kiosk's runtime: one session, its journal, its drivers, and the effects between them.

Runs on one thread (the Kivy main thread in the app): drivers hand events in through `events`,
the screen calls `send()`, and `pump()` drains the queue and lets time pass. No Kivy here.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from drivers.base import Driver
from drivers.errors import DeviceError
from drivers.registry import UnavailableDriver, open_source
from drivers.sim.scanner import SimScanner
from kiosk import status
from kiosk.config import Config
from kiosk.core import events as ev
from kiosk.core.session import Session, Settings, View
from kiosk.ebooks.setup import ebooks_for
from kiosk.errors import JournalError
from kiosk.journal import Journal

log = logging.getLogger(__name__)
MAX_EVENTS_PER_PUMP = 200  # a flood of driver events must not starve the screen


class Runtime:
    def __init__(self, config: Config, journal: Journal, *,
                 clock: Callable[[], float] = time.monotonic,
                 restart: Callable[[], None] = lambda: None) -> None:
        self.config = config
        self.journal = journal
        self.clock = clock
        self.restart = restart
        self.events: queue.Queue = queue.Queue()
        self.session = Session(Settings.from_config(config), clock())
        self.drivers = {name: _build_driver(name, source, self.events, config)
                        for name, source in config.devices.items()}
        self.on_view: list[Callable[[View], None]] = []
        self.journal_failures = 0
        self.library, self.download_server, self.wifi_payload = ebooks_for(config, journal,
                                                                           self.events)

    @property
    def view(self) -> View:
        return self.session.view

    def start(self) -> None:
        for driver in self.drivers.values():
            driver.start()
        if self.download_server is not None:
            try:
                self.download_server.start()
            except OSError as e:  # the port is taken: the kiosk runs on, phones can't download
                log.error("the e-book download server cannot listen on port %s: %s",
                          self.config.ebooks.port, e)
                self.download_server = None
        self.pump()

    def sim_scanner(self) -> SimScanner | None:
        """The first simulated scanner, which the demo's keyboard and tray play through."""
        return next((d for d in self.drivers.values() if isinstance(d, SimScanner)), None)

    def sim_pad(self):
        """The first simulated RFID pad (`drivers.sim.rfid_pad.SimPad`), for the demo tray."""
        return next((d.pad for d in self.drivers.values() if getattr(d, "pad", None)), None)

    def send(self, event: object) -> None:
        before = self.session.view
        self._apply(self.session.handle(event, self.clock()))
        if self.session.view is not before:
            for listener in self.on_view:
                listener(self.session.view)

    def pump(self) -> None:
        for _ in range(MAX_EVENTS_PER_PUMP):
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self.send(event)
        self.send(ev.Tick())

    def close(self) -> None:
        for driver in self.drivers.values():
            driver.close()
        if self.download_server is not None:
            self.download_server.stop()
        self.journal.close()

    def _apply(self, effects: list[object]) -> None:
        # In order, so that a journal row is durable before the view that follows it is shown.
        for effect in effects:
            if isinstance(effect, ev.JournalAppend):
                self._write(effect)
            elif isinstance(effect, ev.GatherStatus):
                self._gather_status()
            elif isinstance(effect, ev.RestartApp):
                self.restart()

    def _write(self, row: ev.JournalAppend) -> None:
        try:
            self.journal.append(row.kind, row.outcome, item=row.item, title=row.title,
                                patron=row.patron, detail=row.detail)
            if row.kind == "ebook_view" and row.item:
                self.library.viewed(row.item)
        except JournalError as e:
            self.journal_failures += 1
            log.error("journal write failed (%s %s): %s", row.kind, row.outcome, e)

    def _gather_status(self) -> None:
        devices = {name: (d.state, d.detail) for name, d in self.session.view.devices.items()}

        def work() -> None:
            report = status.gather(self.config, device_states=devices,
                                   failed_writes=self.journal_failures)
            self.events.put(ev.StatusArrived(report))

        threading.Thread(target=work, name="status", daemon=True).start()


def _build_driver(name: str, source: str, events: queue.Queue, config: Config) -> Driver:
    try:
        return open_source(name, source, events, config.driver_settings)
    except DeviceError as e:  # the config check passed, so a scenario file went bad since
        log.error("%s: %s", name, e)
        return UnavailableDriver(name, str(e), events)


class SteerableClock:
    """Monotonic time that the demo's walkthrough and the UI tests may move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
