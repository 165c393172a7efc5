"""Checked argument types for the `kiosk` command line: pure, run by argparse on the main thread.

A value out of range is refused by argparse itself (usage, one `error:` line, exit 2) instead of
failing deep inside a subcommand with a traceback: a port of 99999, a NaN or negative number of
seconds, a date SQLite and Python cannot both represent, an empty path.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from datetime import date
from pathlib import Path
from typing import Callable

from kiosk.cli.words import _
from kiosk.config import DisplaySection

FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(9998, 12, 30)  # local midnight stays in range


def port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("{text!r} is not a port number", text=text)) from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(_("port {value} is not between 0 and 65535",
                                           value=value))
    return value


def whole(low: int, high: int) -> Callable[[str], int]:
    """A whole number from `low` to `high`."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("{text!r} is not a whole number",
                                               text=text)) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(_("{value} is not between {low} and {high}",
                                               value=value, low=low, high=high))
        return value
    return convert


def seconds(low: float, high: float) -> Callable[[str], float]:
    """A finite number of seconds from `low` to `high` (NaN and infinity refused)."""
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(_("{text!r} is not a number of seconds",
                                               text=text)) from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(_("{text} is not between {low} and {high} seconds",
                                               text=text, low=f"{low:g}", high=f"{high:g}"))
        return value
    return convert


def day(text: str) -> date:
    """A day like 2026-11-24, within the years the journal's times can name."""
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("{text!r} is not a date like 2026-11-24",
                                           text=text)) from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise argparse.ArgumentTypeError(_("{text} is not between {first} and {last}",
                                           text=text, first=FIRST_DAY, last=LAST_DAY))
    return value


def path(text: str) -> Path:
    """A file or folder name; an empty one is refused (Path("") would mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(_("an empty path names no file"))
    if "\0" in text:
        raise argparse.ArgumentTypeError(_("{text!r} holds a NUL character", text=text))
    return Path(text)


def text(what: str) -> Callable[[str], str]:
    """A value that may not be empty or blank (an id, a patron number, a name); `what` is a
    message id (N_)."""
    def convert(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError(_("an empty {what}", what=_(what)))
        return value
    return convert


def screen_size(text: str) -> tuple[int, int]:
    """A window size like 1080x1920, within what [display] width and height allow."""
    width, _sep, height = text.lower().partition("x")
    try:
        size = int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(_("{text!r} is not a size like 1080x1920",
                                           text=text)) from None
    for value, name in zip(size, ("width", "height")):
        low, high = _display_range(name)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(_("a {name} of {value} is not between {low} and "
                                               "{high}", name=name, value=value, low=low,
                                               high=high))
    return size


def _display_range(name: str) -> tuple[int, int]:
    """[display]'s own bounds for `name`, written once in kiosk.config."""
    meta = next(f.metadata for f in dataclasses.fields(DisplaySection) if f.name == name)
    return int(meta["min"]), int(meta["max"])
