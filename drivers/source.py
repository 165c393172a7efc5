"""Source strings: `scheme:target?option=value&...`, as written in `kiosk.toml`'s [devices].

`evdev:/dev/input/by-id/usb-...-event-kbd`, `evdev:0c2e:0b61` (USB vendor:product),
`serial:/dev/serial/by-id/...?baud=9600&role=card`, `3m810:/dev/ttyUSB0`,
`trf7970a:/dev/rfid?security=eas`, `sim:3m810?scenario=/path/pad.toml`,
`escpos:/dev/kiosk-printer?baud=19200&width=42` (a receipt printer).
Parsing is pure; a bad string raises `SourceError` naming the part that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import parse_qsl

from drivers.errors import SourceError

SCHEMES = ("sim", "evdev", "serial", "3m810", "trf7970a", "escpos")


@dataclass(frozen=True)
class Source:
    scheme: str
    target: str
    options: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    def text_option(self, name: str, default: str, choices: tuple[str, ...] | None = None) -> str:
        value = self.options.get(name, default)
        if choices is not None and value not in choices:
            raise SourceError(f"{self.text}: option {name} must be one of "
                              f"{', '.join(choices)} (got {value!r})")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.options.get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SourceError(f"{self.text}: option {name} must be a number "
                              f"(got {raw!r})") from None
        if not low <= value <= high:
            raise SourceError(f"{self.text}: option {name} must be between {low:g} and {high:g} "
                              f"(got {raw})")
        return value

    def whole_number(self, name: str, default: int, low: int, high: int) -> int:
        value = self.number(name, default, low, high)
        if value != int(value):
            raise SourceError(f"{self.text}: option {name} must be a whole number (got {value:g})")
        return int(value)

    def check_options(self, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(self.options) - set(allowed))
        if unknown:
            raise SourceError(f"{self.text}: unknown option {unknown[0]!r}; allowed: "
                              + (", ".join(allowed) or "none"))


def parse(text: str) -> Source:
    scheme, colon, rest = text.partition(":")
    if not colon or scheme not in SCHEMES:
        raise SourceError(f"{text!r}: sources start with " + ", ".join(f"'{s}:'" for s in SCHEMES))
    target, _, query = rest.partition("?")
    if not target:
        raise SourceError(f"{text!r}: nothing after '{scheme}:'")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise SourceError(f"{text!r}: options after '?' must look like "
                          "name=value&name=value") from None
    options: dict[str, str] = {}
    for name, value in pairs:
        if name in options:
            raise SourceError(f"{text!r}: option {name} is given twice")
        options[name] = value
    return Source(scheme, target, options, text)
