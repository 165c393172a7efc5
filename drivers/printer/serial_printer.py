"""A serial ESC/POS receipt printer: `escpos:/dev/kiosk-printer?baud=19200&width=42`.

`print_receipt()` (which waits) and `submit_receipt()` (which returns a Future) may be called
from any thread: the job is queued and written by the device thread (`SupervisedDriver`),
which alone owns the port. Before every job, and every few seconds when idle, it asks the
printer's real-time status (DLE EOT 1, 2, 4): a printer out of paper, with its cover open, in
error or not answering refuses the job with a `PrinterError` and is shown lost with the
reason, then checked again with the supervisor's back-off until it can print. Paper nearly
used up is reported in the connected state's detail, for staff.

Options: `baud` (default 9600), `width` 32|42|48 (characters a line: 58 mm paper is 32, 80 mm
42 or 48), `codepage` (gb18030 or cp936 for Chinese printers, cp437, cp850... for others),
`qr` yes|no (the printer has GS ( k QR codes), `cut` yes|no (it has a cutter), `flow`
none|rtscts|xonxoff.
"""

from __future__ import annotations

import logging
import os
import queue
import time
from concurrent.futures import Future
from dataclasses import dataclass

import serial

from drivers.base import PRINT_TIMEOUT_S, Printer
from drivers.errors import (
    PrinterCoverOpen,
    PrinterError,
    PrinterOffline,
    PrinterPaperOut,
    PrinterTimeout,
)
from drivers.events import EventSink
from drivers.printer.escpos import (
    CODEPAGES,
    STATUS_QUERIES,
    WIDTHS,
    PrinterSetup,
    PrinterStatus,
    encode_job,
    is_status_byte,
    parse_status,
    status_request,
)
from drivers.source import Source
from drivers.supervisor import RETRY_DELAYS_S, SupervisedDriver

log = logging.getLogger(__name__)
wire = logging.getLogger(__name__ + ".wire")
OPTIONS = ("baud", "width", "codepage", "qr", "cut", "flow")
READ_TIMEOUT_S = 0.1  # the longest a read blocks, so jobs and close() are noticed quickly
STATUS_TIMEOUT_S = 1.0  # a printer answers DLE EOT within milliseconds, even when offline
STATUS_EVERY_S = 5.0  # when idle, so paper running out shows before a patron needs it
WRITE_TIMEOUT_S = 10.0
_REFUSALS = {"out of paper": PrinterPaperOut, "cover open": PrinterCoverOpen}


def printer_setup(source: Source) -> PrinterSetup:
    """The source's `width`, `codepage`, `qr` and `cut`; `SourceError` naming a bad one."""
    width = source.text_option("width", "32", tuple(str(w) for w in WIDTHS))
    codepage = source.text_option("codepage", "gb18030", tuple(CODEPAGES))
    qr = source.text_option("qr", "yes", ("yes", "no"))
    cut = source.text_option("cut", "yes", ("yes", "no"))
    return PrinterSetup(int(width), codepage, qr == "yes", cut == "yes")


@dataclass
class _Job:
    data: bytes
    answer: Future[None]


class SerialPrinter(SupervisedDriver[serial.Serial], Printer):
    def __init__(self, name: str, events: EventSink, source: Source, *,
                 status_every_s: float = STATUS_EVERY_S,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        super().__init__(name, events, retry_delays=retry_delays)
        source.check_options(OPTIONS)
        self.path = source.target
        self.baud = source.whole_number("baud", 9600, 1200, 921600)
        self.flow = source.text_option("flow", "none", ("none", "rtscts", "xonxoff"))
        self.setup = printer_setup(source)
        self.status_every_s = status_every_s
        self.printer_status: PrinterStatus | None = None  # the last status read
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._refusal: type[PrinterError] = PrinterOffline  # what a job gets while not connected

    @property
    def width(self) -> int:
        """Characters a line: lay the receipt out to this."""
        return self.setup.width

    # --- any thread -----------------------------------------------------------------------

    def print_receipt(self, text: str, qr: str | None = None,
                      timeout: float = PRINT_TIMEOUT_S) -> None:
        """Print `text` (its first line large) and `qr` as a QR code if the printer can; return
        once the job is written. Raises a `PrinterError` when it was not printed."""
        answer = self.submit_receipt(text, qr)
        try:
            answer.result(timeout=timeout)
        except PrinterError:
            raise
        except TimeoutError:
            if answer.cancel():  # never printed later, behind the caller's back
                raise PrinterTimeout(f"{self.name}: not printed within {timeout:g} s") from None
            raise PrinterTimeout(f"{self.name}: the job did not finish within {timeout:g} s; "
                                 "the receipt may be incomplete") from None

    def submit_receipt(self, text: str, qr: str | None = None) -> Future[None]:
        """The same job without waiting: a Future that gets None once the job is written, or
        the `PrinterError` that stopped it (at once when the printer is not connected). For
        a caller that must not block, such as the screen's thread."""
        answer: Future[None] = Future()
        if self.status != "connected":
            answer.set_exception(self._refusal(f"{self.name}: {self.detail or self.status}"))
            return answer
        self._jobs.put(_Job(encode_job(text, qr, self.setup), answer))
        return answer

    # --- the device thread ----------------------------------------------------------------

    def connect(self) -> serial.Serial:
        self._refusal = PrinterOffline
        port = serial.Serial(self.path, self.baud, timeout=READ_TIMEOUT_S,
                             write_timeout=WRITE_TIMEOUT_S, exclusive=True,
                             rtscts=self.flow == "rtscts", xonxoff=self.flow == "xonxoff")
        try:
            self.printer_status = None
            self._check(port)
        except BaseException:
            port.close()
            raise
        return port

    def describe(self, port: serial.Serial) -> str:
        device = os.path.realpath(self.path)
        near_end = self.printer_status is not None and self.printer_status.paper_near_end
        return (f"{device} at {self.baud} baud, {self.setup.width} columns, "
                f"{self.setup.codepage}" + (", paper near end" if near_end else ""))

    def disconnect(self, port: serial.Serial) -> None:
        port.close()
        self._fail_pending(self._refusal(f"{self.name}: the printer stopped before this job"))

    def serve(self, port: serial.Serial) -> None:
        next_check = time.monotonic() + self.status_every_s
        while not self.stopping:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                job = None
            if job is not None:
                self._print(port, job)
                next_check = time.monotonic() + self.status_every_s
                continue
            stray = port.read(max(1, port.in_waiting))  # SerialException once unplugged
            if stray:
                self.fault(f"{len(stray)} unexpected byte{'s' if len(stray) > 1 else ''} "
                           "from the printer")
            if time.monotonic() >= next_check:
                self._check(port)
                next_check = time.monotonic() + self.status_every_s

    def _print(self, port: serial.Serial, job: _Job) -> None:
        if not job.answer.set_running_or_notify_cancel():
            return  # its caller gave up waiting
        try:
            self._check(port)
            wire.debug("%s: -> job of %d bytes", self.name, len(job.data))
            port.write(job.data)
            port.flush()
        except PrinterError as e:
            log.warning("%s: receipt not printed: %s", self.name, e)
            job.answer.set_exception(e)
            raise
        except Exception as e:
            job.answer.set_exception(PrinterOffline(f"{self.name}: {e}"))
            raise
        log.info("%s: printed a receipt (%d bytes)", self.name, len(job.data))
        job.answer.set_result(None)

    def _check(self, port: serial.Serial) -> PrinterStatus:
        """Ask the printer's status; raise the `PrinterError` that stops it printing."""
        status = self._ask_status(port)
        changed = status != self.printer_status
        self.printer_status = status
        problem = status.problem()
        if problem:
            self._refusal = _REFUSALS.get(problem, PrinterOffline)
            raise self._refusal(problem)
        if changed and self.status == "connected":
            self._set_state("connected", self.describe(port))  # paper near end, or not
        return status

    def _ask_status(self, port: serial.Serial) -> PrinterStatus:
        port.reset_input_buffer()
        replies = []
        for n in STATUS_QUERIES:
            port.write(status_request(n))
            port.flush()
            replies.append(self._status_byte(port, n))
        wire.debug("%s: status %s", self.name, " ".join(f"{b:02X}" for b in replies))
        return parse_status(*replies)

    def _status_byte(self, port: serial.Serial, n: int) -> int:
        deadline = time.monotonic() + STATUS_TIMEOUT_S
        while time.monotonic() < deadline:
            reply: bytes = port.read(1)
            if reply and is_status_byte(reply[0]):
                return reply[0]
            if reply:
                self.fault(f"0x{reply[0]:02X} is not a reply to DLE EOT {n}")
        self._refusal = PrinterTimeout
        raise PrinterTimeout(f"no answer to DLE EOT {n} within {STATUS_TIMEOUT_S:g} s "
                             "(switched off, or the wrong baud rate?)")

    def _fail_pending(self, error: PrinterError) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job.answer.set_running_or_notify_cancel():
                job.answer.set_exception(error)
