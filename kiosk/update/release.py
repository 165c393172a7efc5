"""What the running root says about itself: /etc/kiosk-release (written by the image build) and
the slot U-Boot booted (`rauc.slot=` on the kernel's command line). Pure reading."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from kiosk.commands import parse_properties

RELEASE_PATH = Path("/etc/kiosk-release")
CMDLINE_PATH = Path("/proc/cmdline")
SLOT_ARGUMENT = "rauc.slot"


@dataclass(frozen=True)
class Release:
    version: str
    build: str | None = None
    compatible: str | None = None


def parse_release(text: str) -> Release | None:
    """KEY=value lines (os-release style, values maybe quoted); None without a VERSION."""
    values = {key: value.strip("\"'") for key, value in parse_properties(text).items()}
    if not values.get("VERSION"):
        return None
    return Release(values["VERSION"], values.get("BUILD") or None,
                   values.get("COMPATIBLE") or None)


def read_release(path: Path = RELEASE_PATH) -> Release | None:
    try:
        return parse_release(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def boot_slot(cmdline: str) -> str | None:
    """The bootname U-Boot put on the command line (`rauc.slot=A`), or None."""
    try:
        words = shlex.split(cmdline)
    except ValueError:
        words = cmdline.split()
    for word in words:
        key, sep, value = word.partition("=")
        if sep and key == SLOT_ARGUMENT and value:
            return value
    return None


def read_boot_slot(path: Path = CMDLINE_PATH) -> str | None:
    try:
        return boot_slot(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
