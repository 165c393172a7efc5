"""ESC/POS: a receipt as the bytes a thermal printer takes, and its real-time status replies.

Pure: no port, no thread. `encode_job()` turns lines of text (and a QR payload) into one job:
initialise, select the character set, the first line bold and double height, the rest plain,
the QR code (GS ( k, for printers that have it), then feed and a partial cut. `parse_status()`
reads the bytes a printer answers to DLE EOT 1, 2 and 4.

Chinese printers take GB18030 (or GBK, "cp936") after FS & (Chinese character mode); other
printers take a single-byte code page chosen with ESC t. Characters the code page lacks print
as "?", never as stray bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

ESC, GS, FS, DLE, EOT, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x04, 0x0A
INIT = bytes([ESC, ord("@")])
CHINESE_ON = bytes([FS, ord("&")])
CHINESE_OFF = bytes([FS, ord(".")])
BOLD_ON, BOLD_OFF = bytes([ESC, ord("E"), 1]), bytes([ESC, ord("E"), 0])
DOUBLE_HEIGHT, NORMAL_SIZE = bytes([GS, ord("!"), 0x01]), bytes([GS, ord("!"), 0x00])
ALIGN_LEFT, ALIGN_CENTRE = bytes([ESC, ord("a"), 0]), bytes([ESC, ord("a"), 1])
PARTIAL_CUT = bytes([GS, ord("V"), 1])
FEED_LINES = 3  # the last line clears the tear bar or the cutter
QR_ERROR_LEVEL_M = 49  # GS ( k level: 48 L, 49 M, 50 Q, 51 H
QR_MODULE_DOTS = {32: 4, 42: 5, 48: 6}  # a version-19 code fits 384, 512, 576 dots
QR_MAX_BYTES = 7089 - 3  # what GS ( k's store command can hold

# name -> (Python codec, ESC t table number, or None for Chinese mode with FS &)
CODEPAGES: dict[str, tuple[str, int | None]] = {
    "gb18030": ("gb18030", None),
    "cp936": ("gbk", None),
    "cp437": ("cp437", 0),
    "cp850": ("cp850", 2),
    "cp852": ("cp852", 18),
    "cp858": ("cp858", 19),
    "cp866": ("cp866", 17),
    "cp1252": ("cp1252", 16),
}
WIDTHS = (32, 42, 48)

# DLE EOT n asks for one status byte; every status byte has bit 0 and 7 clear, bits 1 and 4 set.
STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER = 1, 2, 4  # DLE EOT n: what is asked
STATUS_QUERIES = (STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER)
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12


def status_request(n: int) -> bytes:
    return bytes([DLE, EOT, n])


def is_status_byte(value: int) -> bool:
    return value & _FIXED_MASK == _FIXED_BITS


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    cover_open: bool
    paper_end: bool  # printing has stopped: no paper
    paper_near_end: bool  # still printing, the roll is nearly used up
    error: bool  # a mechanical or cutter error

    @property
    def ready(self) -> bool:
        return self.online and not (self.cover_open or self.paper_end or self.error)

    def problem(self) -> str:
        """Why the printer cannot print, in a few words ("" when it can)."""
        if self.paper_end:
            return "out of paper"
        if self.cover_open:
            return "cover open"
        if self.error:
            return "printer error"
        if not self.online:
            return "printer offline"
        return ""


def parse_status(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    """The replies to DLE EOT 1, 2 and 4; ValueError if one is not a status byte."""
    for n, value in ((1, printer), (2, offline_cause), (4, paper)):
        if not is_status_byte(value):
            raise ValueError(f"0x{value:02X} is not a reply to DLE EOT {n}")
    return PrinterStatus(
        online=not printer & 0x08,
        cover_open=bool(offline_cause & 0x04),
        paper_end=bool(offline_cause & 0x20) or bool(paper & 0x60),
        paper_near_end=bool(paper & 0x0C),
        error=bool(offline_cause & 0x40),
    )


@dataclass(frozen=True)
class PrinterSetup:
    width: int = 32  # characters a line at the normal font
    codepage: str = "gb18030"
    qr: bool = True  # the printer has GS ( k
    cut: bool = True  # the printer has a cutter

    def __post_init__(self) -> None:
        if self.width not in WIDTHS:
            raise ValueError(f"width must be one of {', '.join(map(str, WIDTHS))}")
        if self.codepage not in CODEPAGES:
            raise ValueError(f"codepage must be one of {', '.join(CODEPAGES)}")

    @property
    def chinese(self) -> bool:
        return CODEPAGES[self.codepage][1] is None


def encode_text(text: str, codepage: str) -> bytes:
    """Text in the printer's character set; what it lacks becomes '?', control bytes are
    dropped (a stray ESC in a title must not become a command)."""
    codec = CODEPAGES[codepage][0]
    clean = "".join(char for char in text if char >= " " or char == "\n")
    return clean.encode(codec, errors="replace")


def qr_code(payload: str, module_dots: int) -> bytes:
    """GS ( k: model 2, module size, error level M, store the UTF-8 payload, print it."""
    data = payload.encode("utf-8")
    if len(data) > QR_MAX_BYTES:
        raise ValueError(f"QR payload of {len(data)} bytes; at most {QR_MAX_BYTES}")

    def function(fn: int, *params: int, body: bytes = b"") -> bytes:
        size = 2 + len(params) + len(body)
        return bytes([GS, ord("("), ord("k"), size & 0xFF, size >> 8, 49, fn, *params]) + body

    return (function(65, 50, 0)  # model 2
            + function(67, module_dots)
            + function(69, QR_ERROR_LEVEL_M)
            + function(80, 48, body=data)
            + function(81, 48))


def encode_job(text: str, qr: str | None, setup: PrinterSetup) -> bytes:
    """One receipt: `text`'s first line is the header, printed bold and double height."""
    codec_table = CODEPAGES[setup.codepage][1]
    out = bytearray(INIT)
    out += CHINESE_ON if codec_table is None else CHINESE_OFF + bytes([ESC, ord("t"), codec_table])
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    for number, line in enumerate(lines):
        body = encode_text(line, setup.codepage) + b"\n"
        out += BOLD_ON + DOUBLE_HEIGHT + body + NORMAL_SIZE + BOLD_OFF if number == 0 else body
    if qr and setup.qr:
        out += ALIGN_CENTRE + qr_code(qr, QR_MODULE_DOTS[setup.width]) + ALIGN_LEFT
    out += bytes([ESC, ord("d"), FEED_LINES])
    if setup.cut:
        out += PARTIAL_CUT
    return bytes(out)
