"""Builds a driver from its source string (`sim:scanner`, `evdev:/dev/input/...`)."""

from __future__ import annotations

import queue

from drivers.base import Driver
from drivers.events import DeviceStatus
from drivers.sim import SimScanner


class UnavailableDriver(Driver):
    """A configured device whose driver this version lacks: shown offline, never faked."""

    def __init__(self, name: str, source: str, events: queue.Queue) -> None:
        self.name = name
        self.source = source
        self.events = events
        self.status = "unavailable"

    def start(self) -> None:
        self.events.put(DeviceStatus(self.name, "unavailable",
                                     f"no driver for {self.source.split(':', 1)[0]!r} in this version"))

    def close(self) -> None:
        pass


def open_source(name: str, source: str, events: queue.Queue) -> Driver:
    """A driver for `source`, not yet started."""
    scheme = source.split(":", 1)[0]
    if scheme == "sim":
        return SimScanner(name, events)
    return UnavailableDriver(name, source, events)
