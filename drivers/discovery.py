"""What is plugged in: input devices and serial ports, and which configured source names which.

Used by `kiosk devices list`. Reads /dev and /sys through evdev and pyserial; the folders of
stable names are parameters so tests can point them elsewhere.
"""

from __future__ import annotations

import logging
import os
import re
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from drivers.source import Source

log = logging.getLogger(__name__)
LINK_FOLDERS = (Path("/dev/input/by-id"), Path("/dev/input/by-path"), Path("/dev/serial/by-id"),
                Path("/dev"))  # /dev for the udev rules' /dev/kiosk-* names
USB_ID = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


@dataclass(frozen=True)
class Attached:
    kind: str  # "input" or "serial"
    path: str  # the kernel's node, /dev/input/event3 or /dev/ttyUSB0
    name: str
    vendor: int | None = None
    product: int | None = None
    links: tuple[str, ...] = ()  # stable names that point at it
    keys: bool = False  # an input node that can type letters and digits
    serial_number: str = ""  # USB serial adapters differ only by this (udev rules use it)

    @property
    def usb_id(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}" if self.vendor is not None else ""


def attached(link_folders: tuple[Path, ...] = LINK_FOLDERS) -> tuple[list[Attached], list[str]]:
    """Every input node and serial port, and notes on what could not be looked at."""
    links = _links_by_target(link_folders)
    notes: list[str] = []
    found = _input_nodes(links, notes) + _serial_ports(links, notes)
    return found, notes


def resolve(source: Source, devices: list[Attached]) -> list[Attached]:
    """The attached devices a configured source would open."""
    if source.scheme == "sim":
        return []
    usb = USB_ID.match(source.target)
    if source.scheme == "evdev" and usb:
        vendor, product = (int(part, 16) for part in usb.groups())
        return [d for d in devices if d.kind == "input" and d.keys
                and (d.vendor, d.product) == (vendor, product)]
    target = os.path.realpath(source.target)
    return [d for d in devices if os.path.realpath(d.path) == target]


def _links_by_target(folders: tuple[Path, ...]) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {}
    for folder in folders:
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink() and (folder.name != "dev" or entry.name.startswith("kiosk-")):
                links.setdefault(os.path.realpath(entry), []).append(str(entry))
    return links


def _input_nodes(links: dict[str, list[str]], notes: list[str]) -> list[Attached]:
    try:
        import evdev
        from evdev import ecodes
    except ImportError as e:  # pragma: no cover - evdev is a requirement
        notes.append(f"evdev is not installed: {e}")
        return []
    paths = evdev.list_devices()
    if not paths and not Path("/dev/input").is_dir():
        notes.append("no /dev/input on this machine")
    found = []
    for path in paths:
        try:
            with closing(evdev.InputDevice(path)) as device:
                keys = device.capabilities().get(ecodes.EV_KEY, [])
                found.append(Attached("input", path, device.name, device.info.vendor,
                                      device.info.product, tuple(links.get(path, [])),
                                      keys=ecodes.KEY_1 in keys and ecodes.KEY_A in keys))
        except OSError as e:
            notes.append(f"cannot open {path}: {e.strerror} (is this user in group 'input'?)")
    return found


def _serial_ports(links: dict[str, list[str]], notes: list[str]) -> list[Attached]:
    from serial.tools import list_ports
    found = []
    for port in list_ports.comports():
        if port.hwid == "n/a" and not links.get(port.device):
            continue  # a built-in UART with nothing behind it (ttyS0..ttyS31)
        found.append(Attached("serial", port.device, port.description or port.name,
                              port.vid, port.pid, tuple(links.get(port.device, [])),
                              serial_number=port.serial_number or ""))
    return found
