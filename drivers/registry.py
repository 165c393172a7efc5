"""Builds a driver from its source string (`evdev:0c2e:0b61`, `3m810:/dev/ttyUSB0`, `sim:...`).

Building has no side effects (no thread, no file opened), so `check_source` can build and
throw away a driver to check a config line at start.
"""

from __future__ import annotations

import queue
from typing import Callable

from drivers.base import Driver
from drivers.events import DeviceStatus, EventSink
from drivers.settings import RFID_OPTIONS, DriverSettings, rfid_settings
from drivers.source import Source, parse


class UnavailableDriver(Driver):
    """A configured device that cannot be built: shown offline with the reason, never faked."""

    def __init__(self, name: str, reason: str, events: EventSink) -> None:
        self.name = name
        self.reason = reason
        self.events = events
        self._status = "unavailable"

    def start(self) -> None:
        self.events.put(DeviceStatus(self.name, "unavailable", self.reason))

    def close(self) -> None:
        pass


def open_source(name: str, text: str, events: EventSink,
                settings: DriverSettings = DriverSettings()) -> Driver:
    """A driver for the source `text`, not yet started."""
    source = parse(text)
    return _BUILDERS[source.scheme](name, source, events, settings)


def check_source(text: str, settings: DriverSettings = DriverSettings()) -> None:
    """Raise `SourceError` if `text` names no driver or gives it options it does not take."""
    open_source("check", text, queue.Queue(), settings)


def _evdev(name: str, source: Source, events: EventSink, settings: DriverSettings) -> Driver:
    from drivers.evdev_scanner import EvdevScanner
    return EvdevScanner(name, events, source, settings)


def _serial(name: str, source: Source, events: EventSink, settings: DriverSettings) -> Driver:
    from drivers.serial_lines import SerialLineDriver
    return SerialLineDriver(name, events, source, settings)


def _rfid(link_module: str, link_class: str) -> Callable[..., Driver]:
    def build(name: str, source: Source, events: EventSink, settings: DriverSettings) -> Driver:
        import importlib

        from drivers.rfid.pad import RfidPad
        source.check_options(RFID_OPTIONS)
        link = getattr(importlib.import_module(link_module), link_class)
        return RfidPad(name, events, link, source.target, rfid_settings(source, settings))
    return build


def _escpos(name: str, source: Source, events: EventSink, settings: DriverSettings) -> Driver:
    from drivers.printer.serial_printer import SerialPrinter
    return SerialPrinter(name, events, source)


def _sim(name: str, source: Source, events: EventSink, settings: DriverSettings) -> Driver:
    from drivers.sim.devices import open_simulated
    return open_simulated(name, source, events, settings)


_BUILDERS = {
    "evdev": _evdev,
    "serial": _serial,
    "3m810": _rfid("drivers.rfid.m810", "M810Link"),
    "trf7970a": _rfid("drivers.rfid.trf7970a", "Trf7970aLink"),
    "sim": _sim,
    "escpos": _escpos,
}
