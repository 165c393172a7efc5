"""Keyboard-wedge scanners (and card readers that type) through the kernel's input layer.

`evdev:/dev/input/by-id/usb-...-event-kbd` opens that node; `evdev:0c2e:0b61` opens every node
of that USB device that can type letters and digits (a scanner often has a keyboard node and
a consumer-control node, sometimes two keyboards). Every node is grabbed, so no key reaches
the screen or a console, and read through select(). A scan ends on Enter or Tab, or after
`silence_ms` without a key until the scanner has ended a scan with Enter or Tab; lost events
(SYN_DROPPED) drop the scan they fell into (`drivers.barcode.keystream`). Scans go through
`ScanReading` (checks, classification, debounce).

The device thread (`SupervisedDriver`) runs connect/serve/disconnect; nothing else touches the
nodes. `opener` replaces the one call that opens input nodes; the simulated scanner
(`drivers.sim.evdev_device`) is handed in there, since these machines have no /dev/uinput.
"""

from __future__ import annotations

import logging
import os
import re
import select
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Protocol

from evdev import InputEvent, ecodes
from evdev.device import DeviceInfo

from drivers.barcode.keymap import LAYOUTS, Typed
from drivers.barcode.keystream import KeyStream
from drivers.barcode.reading import ScanReading, mask
from drivers.base import Scanner
from drivers.errors import DeviceError, SourceError
from drivers.events import EventSink
from drivers.settings import DriverSettings
from drivers.source import Source
from drivers.supervisor import SupervisedDriver

log = logging.getLogger(__name__)
wire = logging.getLogger(__name__ + ".wire")
OPTIONS = ("role", "debounce", "silence_ms", "layout")
USB_ID = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")
POLL_S = 0.1  # the longest select() wait, so close() is noticed quickly


class InputNode(Protocol):
    """What the driver uses of an `evdev.InputDevice`, which the simulator's `SimInputDevice`
    offers too."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str | bytes: ...
    @property
    def info(self) -> DeviceInfo: ...
    @property
    def fd(self) -> int: ...
    def capabilities(self) -> dict[int, list[int]]: ...
    def read(self) -> Iterator[InputEvent]: ...
    def active_keys(self) -> Iterable[int]: ...
    def grab(self) -> None: ...
    def ungrab(self) -> None: ...
    def close(self) -> None: ...


def open_input_nodes(target: str) -> list[InputNode]:
    """Every input node for `target`: the node at that path, or all nodes (the driver picks)."""
    import evdev
    if not USB_ID.match(target):
        return [evdev.InputDevice(target)]
    nodes: list[InputNode] = []
    for path in sorted(evdev.list_devices()):
        try:
            nodes.append(evdev.InputDevice(path))
        except OSError as e:  # unplugged between listing and opening, or not ours to read
            log.debug("cannot open %s: %s", path, e)
    return nodes


@dataclass
class _Node:
    device: InputNode
    keys: KeyStream


class EvdevScanner(SupervisedDriver[list[_Node]], Scanner):
    def __init__(self, name: str, events: EventSink, source: Source,
                 settings: DriverSettings, *, opener: Callable[[], list[InputNode]] | None = None
                 ) -> None:
        super().__init__(name, events)
        source.check_options(OPTIONS)
        usb = USB_ID.match(source.target)
        if not usb and not os.path.isabs(source.target):
            raise SourceError(f"{source.text}: evdev sources name a device path "
                              "(/dev/input/...) or a USB vendor:product in hex (0c2e:0b61)")
        self.source = source
        self.usb_id = tuple(int(part, 16) for part in usb.groups()) if usb else None
        self.layout = source.text_option("layout", "us", LAYOUTS)
        self.silence_s = source.whole_number("silence_ms", settings.scanner.silence_ms,
                                             10, 5000) / 1000
        role = source.text_option("role", "barcode", ("barcode", "card"))
        debounce = source.number("debounce", settings.scanner.debounce_s, 0, 3600)
        self.reading = ScanReading(name, role, settings.barcodes, debounce, self.fault)
        self.opener = opener or (lambda: open_input_nodes(source.target))

    # --- SupervisedDriver -----------------------------------------------------------------

    def connect(self) -> list[_Node]:
        devices = self.opener()
        try:
            chosen = [device for device in devices if self._wanted(device)]
            if not chosen:
                raise DeviceError(
                    f"no input node of {self.source.target} types letters and digits"
                    if self.usb_id else f"{self.source.target} does not type letters and digits")
            for device in chosen:
                device.grab()  # keep the scanner's keys away from the screen and consoles
        except Exception:
            for device in devices:
                _quietly(device.ungrab)
                _quietly(device.close)
            raise
        for device in devices:
            if device not in chosen:
                _quietly(device.close)  # another device, or the scanner's volume keys
        return [_Node(device, KeyStream(self.layout, self.silence_s, device.active_keys))
                for device in chosen]

    def describe(self, nodes: list[_Node]) -> str:
        first = nodes[0].device
        count = f"{len(nodes)} node" + ("s" if len(nodes) > 1 else "")
        return f"{first.name} ({first.info.vendor:04x}:{first.info.product:04x}), {count}"

    def serve(self, nodes: list[_Node]) -> None:
        by_fd = {node.device.fd: node for node in nodes}
        while not self.stopping:
            ready, _, _ = select.select(list(by_fd), [], [], self._wait(nodes))
            now = time.monotonic()
            for fd in ready:
                self._read(by_fd[fd], now)  # an unplugged node raises OSError: "lost"
            for node in nodes:
                for typed in node.keys.expire(now):
                    self._finished(node, typed, now)

    def disconnect(self, nodes: list[_Node]) -> None:
        for node in nodes:
            _quietly(node.device.ungrab)
            _quietly(node.device.close)

    # --- reading --------------------------------------------------------------------------

    def _wanted(self, device: InputNode) -> bool:
        if self.usb_id and (device.info.vendor, device.info.product) != self.usb_id:
            return False
        keys = set(device.capabilities().get(ecodes.EV_KEY, ()))
        return ecodes.KEY_A in keys and bool(keys & {ecodes.KEY_1, ecodes.KEY_KP1})

    def _wait(self, nodes: list[_Node]) -> float:
        now = time.monotonic()
        deadlines = [node.keys.deadline() for node in nodes]
        return max(0.0, min([POLL_S, *(d - now for d in deadlines if d is not None)]))

    def _read(self, node: _Node, now: float) -> None:
        try:
            events = list(node.device.read())  # evdev's read() is lazy: errors come here
        except BlockingIOError:
            return
        for typed in node.keys.feed(events, now):
            self._finished(node, typed, now)

    def _finished(self, node: _Node, typed: Typed, now: float) -> None:
        if wire.isEnabledFor(logging.DEBUG):
            wire.debug("%s: %s: %d keys ending with %s: %r", self.name, node.device.path,
                       typed.keys, typed.end, mask(typed.text))
        if typed.problems:
            more = f" and {len(typed.problems) - 1} more" if len(typed.problems) > 1 else ""
            self.fault(f"scan dropped: {typed.problems[0]}{more}")
            return
        event = self.reading.take(typed.text, now)
        if event is not None:
            self.emit(event)


def _quietly(action: Callable[[], object]) -> None:
    """Release a node that may already be gone (ENODEV) or released (EINVAL)."""
    try:
        action()
    except OSError:
        pass
