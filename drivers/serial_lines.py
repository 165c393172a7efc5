"""Serial barcode scanners and card readers: one code per line of ASCII text.

`serial:/dev/serial/by-id/...?baud=9600` is a scanner (events: `BarcodeRead`), `&role=card` a
card reader that prints the card number or UID (`CardRead`). Lines end with CR, LF or CRLF.
A partial line left unfinished for `UNFINISHED_SCAN_S` (2 s) is dropped as a fault, unless
`silence_ms` is given: then that silence ends the line, for scanners set up with no suffix,
until the scanner is seen to end a line with CR or LF (`drivers.barcode.pauses`).

Noise never costs the next good line. Bytes that are never part of a code (not printable
ASCII: NUL, 0xFF, a stray control character) are dropped; when they cut into a line, that
line is dropped up to its end, and when they come before any of it, the line after them is
read. A line longer than `MAX_CHARS` is dropped up to its end. Both end at a line end, or at
a pause of `NOISE_GAP_S`: the bytes after it start a new line. Every drop is a fault, never a
crash.

`LineSplitter` (bytes in, lines out) is pure; the device thread (`SupervisedDriver`) owns the
port and the splitter.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass

import serial

from drivers.barcode.pauses import NOISE_GAP_S, ScanPauses
from drivers.barcode.reading import MAX_CHARS, ScanReading, mask
from drivers.base import Scanner
from drivers.events import EventSink
from drivers.settings import DriverSettings
from drivers.source import Source
from drivers.supervisor import SupervisedDriver

log = logging.getLogger(__name__)
wire = logging.getLogger(__name__ + ".wire")
OPTIONS = ("role", "debounce", "silence_ms", "baud")
READ_TIMEOUT_S = 0.1  # the longest a read blocks, so close() is noticed quickly
END_OF_LINE = b"\r\n"
PRINTABLE = range(0x20, 0x7F)
_WORD = re.compile(rb"[0-9A-Za-z]")


@dataclass(frozen=True)
class Dropped:
    """Bytes that made no line: why, for the fault count."""
    detail: str


def _bytes(n: int) -> str:
    return f"{n} byte{'s' if n != 1 else ''}"


class LineSplitter:
    """Chunks of bytes in, whole ASCII lines (or `Dropped`) out, whatever the chunk boundaries.

    Each call gets the time the chunk arrived, so that pauses can end lines and noise."""

    def __init__(self, *, max_chars: int = MAX_CHARS, end_after_s: float | None = None) -> None:
        self.max_chars = max_chars
        self.pauses = ScanPauses(end_after_s)
        self._line = bytearray()
        self._noise = 0  # bytes of noise since the last line end (or the last drop)
        self._cut = False  # noise cut into this line: it is dropped up to its end
        self._too_long = False  # inside a line already dropped as too long
        self._last = 0.0

    def feed(self, chunk: bytes, now: float) -> list[str | Dropped]:
        out = self.expire(now)  # what a pause before this chunk ended goes first
        self._last = now
        for byte in chunk:
            if byte in END_OF_LINE:  # CRLF's LF ends an empty line, which is skipped
                out += self._end_line()
            elif self._too_long:
                continue
            elif byte in PRINTABLE:
                self._printable(byte, out)
            else:
                self._noise += 1
                if self._line:
                    self._cut = True
                    self._line.clear()
        return out

    def expire(self, now: float) -> list[str | Dropped]:
        """What a pause since the last byte ends: noise, a line (with `end_after_s`), a drop."""
        waited = now - self._last
        if self._too_long or self._cut or self._noise:
            return self._noise_over() if waited >= NOISE_GAP_S else []
        if not self._line:
            return []
        limit = self.pauses.limit_s
        verdict = self.pauses.after(waited)
        if verdict == "end":
            return self._take_line()
        if verdict == "drop":
            self._line.clear()
            return [Dropped(f"partial line dropped after {limit:g} s without an end of line")]
        return []

    def _printable(self, byte: int, out: list[str | Dropped]) -> None:
        if self._cut:
            return  # the rest of a line noise cut into
        if self._noise:  # noise before this line, and nothing of it: the line starts here
            out += self._noise_over()
        self._line.append(byte)
        if len(self._line) > self.max_chars:
            out.append(Dropped(f"line longer than {self.max_chars} characters dropped"))
            self._line.clear()
            self._too_long = True

    def _noise_over(self) -> list[str | Dropped]:
        """The noise (and the line it cut into) is dropped; what follows is a new line."""
        noise, cut = self._noise, self._cut
        self._noise, self._cut, self._too_long = 0, False, False
        self._line.clear()
        if cut:
            return [Dropped(f"line with {_bytes(noise)} of noise dropped")]
        if noise:
            return [Dropped(f"{_bytes(noise)} of noise dropped")]
        return []  # the rest of a line too long, counted when it was dropped

    def _end_line(self) -> list[str | Dropped]:
        if self._too_long or self._cut or self._noise:
            return self._noise_over()
        if self._line:
            self.pauses.terminator_seen()
        return self._take_line()

    def _take_line(self) -> list[str | Dropped]:
        line = self._line.decode("ascii")  # printable ASCII only, by construction
        self._line.clear()
        return [line] if line else []  # a blank line between codes is skipped


class SerialLineDriver(SupervisedDriver[serial.Serial], Scanner):
    def __init__(self, name: str, events: EventSink, source: Source,
                 settings: DriverSettings) -> None:
        super().__init__(name, events)
        source.check_options(OPTIONS)
        self.source = source
        self.baud = source.whole_number("baud", 9600, 300, 921600)
        self.role = source.text_option("role", "barcode", ("barcode", "card"))
        self.end_after_s = (source.whole_number("silence_ms", 0, 10, 5000) / 1000
                            if "silence_ms" in source.options else None)
        debounce = source.number("debounce", settings.scanner.debounce_s, 0, 3600)
        self.reading = ScanReading(name, self.role, settings.barcodes, debounce, self.fault)

    def connect(self) -> serial.Serial:
        return serial.Serial(self.source.target, self.baud, timeout=READ_TIMEOUT_S,
                             exclusive=True)

    def describe(self, port: serial.Serial) -> str:
        device = os.path.realpath(self.source.target)
        return f"{device} at {self.baud} baud, {self.role}"

    def serve(self, port: serial.Serial) -> None:
        splitter = LineSplitter(end_after_s=self.end_after_s)
        while not self.stopping:
            chunk = port.read(max(1, port.in_waiting))  # SerialException (an OSError) if pulled
            now = time.monotonic()
            if chunk and wire.isEnabledFor(logging.DEBUG):
                # Letters and digits hidden: a chunk may hold a card number, cut anywhere.
                wire.debug("%s: <- %r", self.name, _WORD.sub(b"*", chunk))
            for piece in splitter.feed(chunk, now) if chunk else splitter.expire(now):
                self._take(piece, now)

    def disconnect(self, port: serial.Serial) -> None:
        port.close()

    def _take(self, piece: str | Dropped, now: float) -> None:
        if isinstance(piece, Dropped):
            self.fault(piece.detail)
            return
        wire.debug("%s: line %r", self.name, mask(piece))
        event = self.reading.take(piece, now)
        if event is not None:
            self.emit(event)
