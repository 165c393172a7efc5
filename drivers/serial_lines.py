"""Serial barcode scanners and card readers: one code per line of ASCII text.

`serial:/dev/serial/by-id/...?baud=9600` is a scanner (events: `BarcodeRead`), `&role=card` a
card reader that prints the card number or UID (`CardRead`). Lines end with CR, LF or CRLF.
A partial line left after more than a second of silence is dropped as a fault, unless
`silence_ms` is given: then that silence ends the line, for scanners set up with no suffix.
Lines that are not ASCII, or longer than `MAX_CHARS`, are faults, never a crash.

`LineSplitter` (bytes in, lines out) is pure; the device thread (`SupervisedDriver`) owns the
port and the splitter.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import time
from dataclasses import dataclass

import serial

from drivers.barcode.reading import MAX_CHARS, ScanReading, mask
from drivers.settings import DriverSettings
from drivers.source import Source
from drivers.supervisor import SupervisedDriver

log = logging.getLogger(__name__)
wire = logging.getLogger("drivers.wire.serial_lines")
OPTIONS = ("role", "debounce", "silence_ms", "baud")
READ_TIMEOUT_S = 0.1  # the longest a read blocks, so close() is noticed quickly
PARTIAL_LINE_S = 1.0  # a line unfinished for this long is noise, or a cable pulled mid-line
_END_OF_LINE = re.compile(rb"[\r\n]")
_WORD = re.compile(rb"[0-9A-Za-z]")


@dataclass(frozen=True)
class Dropped:
    """Bytes that made no line: why, for the fault count."""
    detail: str


class LineSplitter:
    """Chunks of bytes in, whole ASCII lines (or `Dropped`) out, whatever the chunk boundaries."""

    def __init__(self, *, max_chars: int = MAX_CHARS, end_after_s: float | None = None,
                 drop_after_s: float = PARTIAL_LINE_S) -> None:
        self.max_chars = max_chars
        self.end_after_s = end_after_s
        self.drop_after_s = drop_after_s
        self._line = bytearray()
        self._skipping = False  # inside a line already dropped as too long
        self._last = 0.0

    def feed(self, chunk: bytes, now: float) -> list[str | Dropped]:
        out = self.expire(now)  # a partial line from before a long pause goes first
        self._last = now
        start = 0
        # CR, LF and CRLF all end a line: CRLF's LF ends an empty one, and those are skipped.
        for end in _END_OF_LINE.finditer(chunk):
            self._add(chunk[start:end.start()], out)
            out += self._end_line()
            start = end.end()
        self._add(chunk[start:], out)
        return out

    def expire(self, now: float) -> list[str | Dropped]:
        """What a pause since the last byte ends: a line (with `end_after_s`), or a drop."""
        if not (self._line or self._skipping):
            return []
        waited = now - self._last
        if self._skipping and waited > self.drop_after_s:
            self._skipping = False  # the over-long line was counted when it was dropped
            return []
        if self.end_after_s is not None and waited >= self.end_after_s:
            return self._end_line()
        if self._line and waited > self.drop_after_s:
            self._line.clear()
            return [Dropped(f"partial line dropped after {self.drop_after_s:g} s "
                            "without an end of line")]
        return []

    def _add(self, data: bytes, out: list[str | Dropped]) -> None:
        if not data or self._skipping:
            return
        self._line += data
        if len(self._line) > self.max_chars:
            out.append(Dropped(f"line longer than {self.max_chars} characters dropped"))
            self._line.clear()
            self._skipping = True

    def _end_line(self) -> list[str | Dropped]:
        line, skipping = bytes(self._line), self._skipping
        self._line.clear()
        self._skipping = False
        if skipping or not line:
            return []  # the rest of a dropped line, or a blank line between codes
        try:
            return [line.decode("ascii")]
        except UnicodeDecodeError:
            bad = sum(byte > 0x7F for byte in line)
            return [Dropped(f"line with {bad} non-ASCII byte{'s' if bad > 1 else ''} dropped")]


class SerialLineDriver(SupervisedDriver):
    def __init__(self, name: str, events: queue.Queue, source: Source,
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
