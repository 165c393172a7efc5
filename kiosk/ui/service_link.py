"""What the app tells systemd (kiosk.service is `Type=notify` with `WatchdogSec=`).

READY=1 once the first frame is on the screen; WATCHDOG=1 from the Kivy clock every third of
systemd's interval, and only while `progressed_since(moment)` says the app made progress since
the last ping, so that a UI that hangs (its main thread blocked or stopped) or a runtime that
stopped turning is restarted, not only one that dies; STATUS= with what the kiosk is doing;
STOPPING=1 when it ends. Outside
systemd all of this costs one environment lookup. Runs on the Kivy main thread; Kivy is
imported only in `start()`, so the decisions can be checked without a window.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from kiosk import sd_notify

log = logging.getLogger(__name__)

# The STATUS= texts live with the protocol (kiosk update confirm reads them without Kivy).
IN_SERVICE = sd_notify.IN_SERVICE
STARTING = sd_notify.STARTING
STOPPING = sd_notify.STOPPING_STATUS
RESTARTING = sd_notify.RESTARTING
OUT_OF_SERVICE_PREFIX = sd_notify.OUT_OF_SERVICE_PREFIX


def out_of_service(cause: str) -> str:
    return OUT_OF_SERVICE_PREFIX + cause


class ServiceLink:
    def __init__(self, progressed_since: Callable[[float], bool] = lambda _moment: True) -> None:
        """`progressed_since(moment)`: whether the app did its work after `moment`
        (time.monotonic()), e.g. `Runtime.turned_since`."""
        self.progressed_since = progressed_since
        self.interval_s = sd_notify.watchdog_interval_s()
        self.ready = False
        self._status = STARTING
        self._ping_event = None
        self._silent = False  # pings withheld, logged once until they resume
        self._last_check = float("-inf")

    def start(self) -> None:
        """Call from the app's on_start: READY=1 follows the first frame drawn."""
        from kivy.clock import Clock
        from kivy.core.window import Window
        Window.bind(on_flip=self._first_frame)
        if self.interval_s is not None:
            self._ping_event = Clock.schedule_interval(self._tick, self.interval_s / 3)

    def status(self, text: str) -> None:
        """What the kiosk is doing now; sent when it changes (with READY=1 if not yet ready)."""
        if text == self._status:
            return
        self._status = text
        if self.ready:
            log.info("service status: %s", text)
            sd_notify.notify(sd_notify.status(text))

    def stop(self, *, restarting: bool = False) -> None:
        """No more pings. `restarting`: the process execs itself and says READY=1 again, so
        systemd must not hear STOPPING=1 (the unit would go on to deactivate)."""
        if self._ping_event is not None:
            self._ping_event.cancel()
            self._ping_event = None
        self._status = RESTARTING if restarting else STOPPING
        if restarting:
            sd_notify.notify(sd_notify.status(RESTARTING))
        else:
            sd_notify.notify(sd_notify.STOPPING, sd_notify.status(STOPPING))

    def _first_frame(self, window, *_args) -> None:
        window.unbind(on_flip=self._first_frame)
        self.ready = True
        log.info("first frame drawn; service status: %s", self._status)
        sd_notify.notify(sd_notify.READY, sd_notify.status(self._status))

    def _tick(self, _dt) -> None:
        self.ping()  # never returns False to the Clock, which would end the interval

    def ping(self) -> bool:
        """WATCHDOG=1 if the app made progress since the last ping; whether it was sent."""
        if self.interval_s is None:
            return False
        since, self._last_check = self._last_check, time.monotonic()
        if self.progressed_since(since):
            if self._silent:
                log.warning("watchdog: the app is making progress again; pinging systemd")
                self._silent = False
            return sd_notify.notify(sd_notify.WATCHDOG)
        if not self._silent:
            log.error("watchdog: the kiosk's runtime has made no progress for %.1f s; no more "
                      "pings, so systemd will restart the app", self._last_check - since)
            self._silent = True
        return False
