"""The demo's in-process scanner: the on-screen tray and the keyboard "scan" through it.

`scan()` may be called from any thread; events go on the queue the driver was given. The code
is split and classified by the same rules as a real scanner's, so the kiosk sees the same kind.
"""

from __future__ import annotations

from drivers.barcode.classify import classify
from drivers.barcode.symbology import split
from drivers.base import Scanner
from drivers.events import BarcodeRead, DeviceStatus, EventSink
from drivers.settings import BarcodeRules


class SimScanner(Scanner):
    """A barcode scanner that reads whatever it is told to, and records it."""

    def __init__(self, name: str, events: EventSink, rules: BarcodeRules = BarcodeRules()) -> None:
        self.name = name
        self.events = events
        self.rules = rules
        self._status = "closed"
        self.history: list[str] = []

    def start(self) -> None:
        self._status = "connected"
        self.events.put(DeviceStatus(self.name, "connected", "simulated"))

    def scan(self, raw: str, symbology: str | None = None) -> None:
        self.history.append(raw)
        data, said = split(raw)
        symbology = symbology or said
        self.events.put(BarcodeRead(self.name, data, symbology,
                                    classify(data, symbology, self.rules)))

    def close(self) -> None:
        if self.status != "closed":
            self._status = "closed"
            self.events.put(DeviceStatus(self.name, "lost", "closed"))
