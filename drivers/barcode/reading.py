"""From a scanned string to the event to emit: checked, split, classified and debounced.

Both scanner drivers (evdev and serial) hand every finished scan to a `ScanReading`, which
refuses empty, over-long or control-character input as a counted fault, strips the AIM
identifier and Codabar start/stop characters, classifies the code and drops the same code
read again within the debounce window. Used by the one driver thread that owns it; the clock
is passed in, so tests need no sleeps.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Callable

from drivers.barcode.classify import classify
from drivers.barcode.symbology import split
from drivers.events import BarcodeRead, CardRead
from drivers.settings import BarcodeRules

log = logging.getLogger(__name__)
MAX_CHARS = 512  # a QR e-card fits; anything longer is a stuck key or line noise
ROLES = ("barcode", "card")
CHECK_DIGITS = ("luhn", "none")
KEEP = 4


def mask(text: str) -> str:
    """`23520001234566` -> `**********4566`: for every log line that holds a scanned code."""
    if len(text) <= KEEP:
        return "*" * len(text)
    return "*" * (len(text) - KEEP) + text[-KEEP:]


class ScanReading:
    def __init__(self, source: str, role: str, rules: BarcodeRules, debounce_s: float,
                 fault: Callable[[str], None]) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
        if rules.check_digit not in CHECK_DIGITS:
            raise ValueError(f"check_digit must be one of {', '.join(CHECK_DIGITS)} "
                             f"(got {rules.check_digit!r})")
        self.source = source
        self.role = role
        self.rules = rules
        self.debounce_s = debounce_s
        self.fault = fault
        self._last_code: str | None = None
        self._last_seen = 0.0

    def take(self, raw: str, now: float) -> BarcodeRead | CardRead | None:
        """The event for this scan, or None when it is refused (a fault) or a repeat."""
        problem = _problem(raw)
        if problem:
            self.fault(problem)
            return None
        if self.role == "card":
            data, symbology = raw.strip(), None
        else:
            data, symbology = split(raw.strip())
        if not data:
            self.fault("a scan with no data")
            return None
        if self._repeat(data, now):
            log.debug("%s: %s again within %g s, dropped", self.source, mask(data),
                      self.debounce_s)
            return None
        if self.role == "card":
            log.info("%s: card %s", self.source, mask(data))
            return CardRead(self.source, data)
        kind = classify(data, symbology, self.rules)
        log.info("%s: %s %s (%s)", self.source, kind, mask(data), symbology or "symbology unsaid")
        return BarcodeRead(self.source, data, symbology, kind)

    def _repeat(self, data: str, now: float) -> bool:
        # Measured from the last sighting, so a code held under a presentation scanner, read
        # again and again, counts once until it has been away for the whole window.
        repeat = data == self._last_code and now - self._last_seen < self.debounce_s
        self._last_code, self._last_seen = data, now
        return repeat


def _problem(raw: str) -> str | None:
    if not raw.strip():
        return "an empty scan"
    if len(raw) > MAX_CHARS:
        return f"a scan of {len(raw)} characters (at most {MAX_CHARS})"
    for char in raw:
        if unicodedata.category(char) == "Cc":
            return f"control character 0x{ord(char):02X} in a scan"
    return None
