"""The simulated ESC/POS receipt printer: it keeps the paper, on a pty.

The real `SerialPrinter` opens the pty behind `link`. `SimPrinter` reads the ESC/POS it is sent
as a printer would: text in the selected character set (GB18030 or GBK after FS &, else the
ESC t code page), QR codes stored and printed with GS ( k, feeds and cuts, and answers DLE EOT
status requests at once. What it printed is in `printed`: one `PrintedJob` per ESC @ (or per
cut), with its lines of text and QR payloads. Commands it does not know are kept in `unknown`.

Faults on demand (`faults`): paper near end or out (nothing more is printed), cover open, no
answer to status requests (switched off), garbage before the next status reply; `unplug()`
and `replug()` come from `PtyDevice`. Runs `PtyDevice`'s thread; everything else may be called
from any thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from drivers.printer.escpos import CODEPAGES, DLE, EOT, ESC, FS, GS, LF
from drivers.sim.pty_port import PtyDevice

BAUD = 19200
_TABLES = {table: codec for codec, table in CODEPAGES.values() if table is not None}
_CHINESE_CODEC = "gb18030"  # GBK is a subset: a Chinese printer reads both
_THREE_BYTE = {(ESC, ord("t")), (ESC, ord("E")), (ESC, ord("a")), (ESC, ord("!")),
               (ESC, ord("d")), (ESC, ord("-")), (GS, ord("!")), (DLE, EOT)}
_TWO_BYTE = {(ESC, ord("@")), (FS, ord("&")), (FS, ord("."))}


@dataclass(frozen=True)
class PrintedJob:
    lines: tuple[str, ...]
    qr: tuple[str, ...]  # payloads of the QR codes printed, in order
    cut: bool

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


@dataclass
class PrinterFaults:
    paper: str = "ok"  # "ok", "near_end" or "out"
    cover_open: bool = False
    silent: bool = False  # no answer to DLE EOT: switched off, or at another baud rate
    garbage: bytes = b""  # sent once, before the next status reply


@dataclass
class _Paper:
    lines: list[str] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    cut: bool = False

    @property
    def blank(self) -> bool:
        return not (self.lines or self.qr)


class SimPrinter(PtyDevice):
    def __init__(self, link: str | Path, *, baud: int | None = None) -> None:
        super().__init__(self._take, link, baud=baud)
        self.faults = PrinterFaults()
        self.unknown: list[bytes] = []
        self.status_requests = 0
        self._state = threading.RLock()
        self._pending = bytearray()
        self._line = bytearray()
        self._jobs: list[_Paper] = []
        self._codec = "cp437"
        self._chinese = False
        self._qr_stored = b""

    def start(self) -> "SimPrinter":
        super().start()
        return self

    @property
    def printed(self) -> tuple[PrintedJob, ...]:
        with self._state:
            return tuple(PrintedJob(tuple(job.lines), tuple(job.qr), job.cut)
                         for job in self._jobs if not job.blank)

    # --- the pty thread -------------------------------------------------------------------

    def _take(self, data: bytes) -> bytes:
        with self._state:
            self._pending += data
            replies = bytearray()
            while self._pending:
                used, reply = self._command(bytes(self._pending))
                if used == 0:
                    break  # a command not complete yet
                del self._pending[:used]
                replies += reply
            return bytes(replies)

    def _command(self, data: bytes) -> tuple[int, bytes]:
        """How many bytes the first command in `data` takes (0: wait for more), and the reply."""
        first = data[0]
        if first not in (ESC, GS, FS, DLE):
            self._text(first)
            return 1, b""
        if len(data) < 2:
            return 0, b""
        pair = (first, data[1])
        if pair in _TWO_BYTE:
            self._two_byte(pair)
            return 2, b""
        if pair == (GS, ord("(")):
            return self._gs_paren(data)
        if pair == (GS, ord("V")):
            if len(data) < 3:
                return 0, b""
            size = 4 if data[2] in (65, 66) else 3
            if len(data) < size:
                return 0, b""
            self._finish_line()
            self._paper().cut = True
            return size, b""
        if pair in _THREE_BYTE:
            if len(data) < 3:
                return 0, b""
            return 3, self._three_byte(pair, data[2])
        self.unknown.append(data[:2])
        return 2, b""

    def _two_byte(self, pair: tuple[int, int]) -> None:
        if pair == (ESC, ord("@")):
            self._finish_line()
            if not self._jobs or not self._jobs[-1].blank:
                self._jobs.append(_Paper())
            self._codec, self._chinese = "cp437", False
        else:
            self._finish_line()
            self._chinese = pair == (FS, ord("&"))

    def _three_byte(self, pair: tuple[int, int], n: int) -> bytes:
        if pair == (DLE, EOT):
            return self._status(n)
        if pair == (ESC, ord("t")):
            self._finish_line()
            self._codec = _TABLES.get(n, self._codec)
            if n not in _TABLES:
                self.unknown.append(bytes([ESC, ord("t"), n]))
        return b""  # bold, size, alignment, underline and feeds leave the text as it is

    def _gs_paren(self, data: bytes) -> tuple[int, bytes]:
        if len(data) < 5:
            return 0, b""
        size = data[3] | data[4] << 8
        if len(data) < 5 + size:
            return 0, b""
        body = data[5:5 + size]
        if data[2] != ord("k") or size < 2 or body[0] != 49:
            self.unknown.append(data[:5 + size])
        elif body[1] == 80:
            self._qr_stored = body[3:]
        elif body[1] == 81 and self._can_print():
            self._finish_line()
            self._paper().qr.append(self._qr_stored.decode("utf-8", "replace"))
        return 5 + size, b""

    def _status(self, n: int) -> bytes:
        self.status_requests += 1
        faults = self.faults
        if faults.silent:
            return b""
        out = faults.paper == "out"
        value = 0x12
        if n == 1 and (out or faults.cover_open):
            value |= 0x08
        elif n == 2:
            value |= (0x04 if faults.cover_open else 0) | (0x20 if out else 0)
        elif n == 4:
            value |= 0x60 if out else 0x0C if faults.paper == "near_end" else 0
        garbage, faults.garbage = faults.garbage, b""
        return garbage + bytes([value])

    def _text(self, byte: int) -> None:
        if byte == LF:
            self._finish_line(always=True)
        elif byte >= 0x20 and self._can_print():
            self._line.append(byte)

    def _finish_line(self, *, always: bool = False) -> None:
        if self._line or always:
            codec = _CHINESE_CODEC if self._chinese else self._codec
            if self._can_print():
                self._paper().lines.append(bytes(self._line).decode(codec, "replace"))
            self._line.clear()

    def _can_print(self) -> bool:
        return self.faults.paper != "out" and not self.faults.cover_open

    def _paper(self) -> _Paper:
        if not self._jobs or self._jobs[-1].cut:
            self._jobs.append(_Paper())
        return self._jobs[-1]
