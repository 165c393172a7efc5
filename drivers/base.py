"""What a driver must and may do: every driver's `start()`, idempotent `close()` and use as a
context manager, and the three kinds the kiosk uses (as gpiozero's base classes declare what a
device offers).

A driver reports on the queue it was given (`drivers.events`), from its own thread. What the
runtime may ask of it beyond that is declared here as an abstract method of its kind, so the
runtime checks `isinstance(driver, SecurityReader)`, never `hasattr`. Every shipped driver and
simulator is checked against its kind by tests/test_driver_kinds.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Self

SECURITY_TIMEOUT_S = 5.0  # a reader that has not taken a security request by then: nothing sent
PRINT_TIMEOUT_S = 10.0  # a receipt not written by then is given up


@dataclass(frozen=True)
class SecurityResult:
    """What became of one `set_security()` request, as read back from the tag."""
    uid: str
    secured: bool | None  # the state read back; None when it could not be read or means neither
    value: int | bool | None  # the AFI byte or EAS bit read back; None when it could not be read
    error: str = ""  # what went wrong on the way ("" when nothing did), even if it ended as asked


class Driver(ABC):
    """Must: `start()` (returns at once; the driver reports `DeviceStatus` as it connects) and
    an idempotent `close()`."""

    name: str
    _status = "closed"  # the driver sets it; the kiosk only reads `status`

    @property
    def status(self) -> str:
        """"closed", "connected", "degraded", "lost" or "unavailable" (as `DeviceStatus`)."""
        return self._status

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Scanner(Driver):
    """A barcode scanner or a patron-card reader. Must: put a `BarcodeRead` (or a `CardRead`)
    for each code read.
    Nothing can be asked of it."""


class Reader(Driver):
    """An RFID pad. Must: put `TagsSeen` as the items on the pad change. May: set the items'
    security (a `SecurityReader`)."""


class SecurityReader(Reader):
    """A reader that can arm and disarm an item's alarm (AFI or EAS), on any thread."""

    @abstractmethod
    def set_security(self, uid: str, secured: bool,
                     timeout: float = SECURITY_TIMEOUT_S) -> SecurityResult:
        """Set it and read it back. Raises `DeviceError` only when nothing was written."""


class Printer(Driver):
    """A receipt printer. Must: print a receipt, on any thread, blocking until it is written.
    It may report its paper as it goes (`DeviceStatus`)."""

    @abstractmethod
    def print_receipt(self, text: str, qr: str | None = None,
                      timeout: float = PRINT_TIMEOUT_S) -> None:
        """Print `text` and `qr` as a QR code if it can; raises `DeviceError` (a
        `PrinterError`) when it was not printed."""
