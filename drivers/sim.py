"""Simulated scanner: shipped code for the demo and the tests, never a silent fallback.

`scan()` may be called from any thread; events go on the queue the driver was given.
"""

from __future__ import annotations

import queue

from drivers.base import Driver
from drivers.events import BarcodeRead, DeviceStatus


class SimScanner(Driver):
    """A barcode scanner that reads whatever it is told to, and records it."""

    def __init__(self, name: str, events: queue.Queue) -> None:
        self.name = name
        self.events = events
        self.status = "closed"
        self.history: list[str] = []

    def start(self) -> None:
        self.status = "connected"
        self.events.put(DeviceStatus(self.name, "connected", "simulated"))

    def scan(self, data: str, symbology: str | None = None) -> None:
        self.history.append(data)
        self.events.put(BarcodeRead(self.name, data, symbology))

    def close(self) -> None:
        if self.status != "closed":
            self.status = "closed"
            self.events.put(DeviceStatus(self.name, "lost", "closed"))
