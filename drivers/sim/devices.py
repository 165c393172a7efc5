"""`sim:KIND` sources: the real driver for KIND, wired to its simulated twin.

    sim:scanner                      the demo's in-process scanner (on-screen tray, keyboard)
    sim:3m810?scenario=demo          a 3M 810 pad on a pty; tags from a scenario file
    sim:trf7970a?scenario=PATH       a TRF7970A board on a pty
    sim:serial-scanner               a serial barcode scanner on a pty
    sim:card                         a serial card reader on a pty
    sim:evdev-scanner                a keyboard-wedge scanner sending real evdev events
    sim:printer?width=42             an ESC/POS receipt printer on a pty (it keeps the paper)

`scenario=demo` is the pad shipped in drivers/sim/scenarios/demo.toml. `paced=no` lets a pty
twin answer at once instead of at the real device's baud rate (tests that count faults, say).
The twin is started with the driver and reachable as `.twin` (and `.pad` for readers), so the
demo tray and the tests can scan, place tags and pull the plug.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar

from drivers.base import (
    PRINT_TIMEOUT_S,
    SECURITY_TIMEOUT_S,
    Driver,
    Printer,
    Scanner,
    SecurityReader,
    SecurityResult,
)
from drivers.errors import DeviceError
from drivers.events import EventSink
from drivers.settings import RFID_OPTIONS, DriverSettings, rfid_settings
from drivers.source import Source

SCENARIOS = Path(__file__).with_name("scenarios")
KINDS = ("scanner", "3m810", "trf7970a", "serial-scanner", "card", "evdev-scanner", "printer")
RealDriver = TypeVar("RealDriver", bound=Driver)


class SimulatedDevice(Driver, Generic[RealDriver]):
    """Starts a twin at a fresh path, then the real driver on it; closes both."""

    def __init__(self, name: str, make_twin: Callable[[Path], Any],
                 make_driver: Callable[[Path, Any], RealDriver], *, pad: Any = None) -> None:
        self.name = name
        self.pad = pad
        self.twin: Any = None
        self.driver: RealDriver | None = None
        self._make_twin = make_twin
        self._make_driver = make_driver
        self._folder: str | None = None

    @property
    def status(self) -> str:
        return self.driver.status if self.driver else "closed"

    def __getattr__(self, attribute: str) -> Any:
        # set_security, faults, detail, since...: whatever the real driver offers.
        driver = self.__dict__.get("driver")
        if driver is None:
            raise AttributeError(attribute)
        return getattr(driver, attribute)

    def _running(self) -> RealDriver:
        """The real driver, once started: before that nothing can be asked of it."""
        if self.driver is None:
            raise DeviceError(f"{self.name} is not started")
        return self.driver

    def start(self) -> None:
        if self.driver is not None:
            return
        self._folder = tempfile.mkdtemp(prefix=f"kiosk-sim-{self.name}-")
        path = Path(self._folder) / "device"
        self.twin = self._make_twin(path)
        self.driver = self._make_driver(path, self.twin)
        self.driver.start()

    def close(self) -> None:
        if self.driver is not None:
            self.driver.close()
        if self.twin is not None and hasattr(self.twin, "close"):
            self.twin.close()
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class SimulatedScanner(SimulatedDevice[Scanner], Scanner):
    """A simulated barcode scanner or card reader on its twin."""


class SimulatedReader(SimulatedDevice[SecurityReader], SecurityReader):
    """A simulated RFID pad; `.pad` holds its tags."""

    def set_security(self, uid: str, secured: bool,
                     timeout: float = SECURITY_TIMEOUT_S) -> SecurityResult:
        return self._running().set_security(uid, secured, timeout)


class SimulatedPrinter(SimulatedDevice[Printer], Printer):
    """A simulated receipt printer; `.twin` keeps the paper."""

    def print_receipt(self, text: str, qr: str | None = None,
                      timeout: float = PRINT_TIMEOUT_S) -> None:
        self._running().print_receipt(text, qr, timeout)


def open_simulated(name: str, source: Source, events: EventSink,
                   settings: DriverSettings) -> Driver:
    kind = source.target
    if kind == "scanner":
        from drivers.sim.scanner import SimScanner
        source.check_options(())
        return SimScanner(name, events, settings.barcodes)
    if kind in ("3m810", "trf7970a"):
        return _simulated_pad(name, kind, source, events, settings)
    if kind in ("serial-scanner", "card"):
        return _simulated_line_device(name, kind, source, events, settings)
    if kind == "evdev-scanner":
        return _simulated_evdev_scanner(name, source, events, settings)
    if kind == "printer":
        return _simulated_printer(name, source, events)
    from drivers.errors import SourceError
    raise SourceError(f"{source.text}: no simulated device {kind!r}; there are {', '.join(KINDS)}")


def _paced(source: Source) -> bool:
    return source.text_option("paced", "yes", ("yes", "no")) == "yes"


def _simulated_pad(name: str, kind: str, source: Source, events: EventSink,
                   settings: DriverSettings) -> Driver:
    from drivers.rfid.link import LinkClass
    from drivers.rfid.pad import RfidPad
    from drivers.sim.rfid_pad import SimPad, load_scenario

    source.check_options((*RFID_OPTIONS, "scenario", "paced"))
    security = rfid_settings(source, settings)
    scenario = source.options.get("scenario", "")
    afi = {True: security.afi_secured, False: security.afi_unsecured}
    pad = load_scenario(SCENARIOS / "demo.toml" if scenario == "demo" else scenario, afi) \
        if scenario else SimPad()
    paced = _paced(source)
    if kind == "3m810":
        from drivers.rfid.m810 import M810Link
        from drivers.sim.m810 import start_m810_sim as start_twin
        link_class: LinkClass = M810Link
    else:
        from drivers.rfid.trf7970a import Trf7970aLink
        from drivers.sim.trf7970a import start_trf7970a_sim as start_twin
        link_class = Trf7970aLink
    return SimulatedReader(
        name, lambda path: start_twin(pad, path, paced=paced),
        lambda path, twin: RfidPad(name, events, link_class, str(path), security), pad=pad)


def _simulated_line_device(name: str, kind: str, source: Source, events: EventSink,
                           settings: DriverSettings) -> Driver:
    from drivers.serial_lines import SerialLineDriver
    from drivers.sim.line_device import LineDevice

    source.check_options(("debounce", "paced"))
    paced = _paced(source)
    role = "card" if kind == "card" else "barcode"
    options = {"role": role, "baud": "9600", **{k: v for k, v in source.options.items()
                                                if k == "debounce"}}
    return SimulatedScanner(
        name, lambda path: LineDevice(path, baud=9600 if paced else None).start(),
        lambda path, twin: SerialLineDriver(name, events, Source("serial", str(path), options,
                                                                 f"serial:{path}"), settings))


def _simulated_evdev_scanner(name: str, source: Source, events: EventSink,
                             settings: DriverSettings) -> Driver:
    from drivers.evdev_scanner import EvdevScanner
    from drivers.sim.evdev_device import SimInputDevice

    source.check_options(("debounce", "silence_ms", "layout"))
    options = dict(source.options)
    return SimulatedScanner(
        name, lambda path: SimInputDevice(path=str(path)),
        lambda path, twin: EvdevScanner(name, events, Source("evdev", str(path), options,
                                                             f"evdev:{path}"),
                                        settings, opener=lambda: [twin]))


def _simulated_printer(name: str, source: Source, events: EventSink) -> Driver:
    from drivers.printer.serial_printer import SerialPrinter, printer_setup
    from drivers.sim.printer import BAUD, SimPrinter

    source.check_options(("width", "codepage", "qr", "cut", "paced"))
    printer_setup(source)  # a bad option stops the config check, not the device thread
    paced = _paced(source)
    options = {"baud": str(BAUD), **{k: v for k, v in source.options.items() if k != "paced"}}
    return SimulatedPrinter(
        name, lambda path: SimPrinter(path, baud=BAUD if paced else None).start(),
        lambda path, twin: SerialPrinter(name, events, Source("escpos", str(path), options,
                                                              f"escpos:{path}")))
