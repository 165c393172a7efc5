"""What every RFID reader link offers, whatever its wire protocol.

A link owns one open serial port and turns calls into frames and replies back into values.
It is used by one thread only (the pad driver's); it keeps no state about tags.
UIDs are 16 upper-case hex digits, most significant byte first, as printed on tags ("E004...").
Errors are `drivers.errors.ReaderError` subclasses: `ReaderTimeout`, `BadFrame`,
`TagNotAnswering`, `NotSupported`. A write that raises `NotSupported` has sent nothing.

A reply belongs to the request it answers: each link takes only a reply that fits its request
and skips any other as a late reply to an earlier one. After a timeout or a broken reply the
line is `unsettled`: a late reply may still be on its way. Before its next request the link
then asks the reader something harmless (its version) and drops everything that comes before
that answer.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Callable, Protocol

import serial

from drivers.errors import NotSupported

log = logging.getLogger(__name__)

BLOCK_SIZE = 4  # bytes per block on the ISO 15693 tags libraries use (ICODE SLIX, Tag-it)


class LinkClass(Protocol):
    """A `ReaderLink` subclass as the pad uses it: its line speed, and built on an open port."""
    baud: int

    def __call__(self, port: serial.Serial) -> ReaderLink: ...


class ReaderLink(ABC):
    baud: int  # the reader's fixed line speed
    name: str  # "3m810", "trf7970a"
    # Whether a UID in an inventory reply is known to be one a tag sent: the reply carries a
    # checksum. Without one, line noise can make up a UID, and the pad believes a new UID
    # only once `confirm()` succeeded or two inventories in a row held it.
    checked_inventory = True

    def __init__(self, port: serial.Serial, *, timeout: float, read_slice_s: float,
                 on_garbage: Callable[[str], None] | None = None) -> None:
        self.port = port
        self.timeout = timeout  # for a whole reply
        self.on_garbage = on_garbage  # told about skipped noise; the pad passes its fault()
        self.skipped_bytes = 0  # noise and stray replies thrown away since the link was made
        self.unsettled = False  # a late reply may still come: settle the line before asking
        # Short reads, so that deadlines and silences are noticed in time.
        if port.timeout is None or port.timeout > read_slice_s:
            port.timeout = read_slice_s

    @abstractmethod
    def probe(self) -> str:
        """Check that this kind of reader answers; return its version text. Raise if not."""

    @abstractmethod
    def inventory(self) -> list[str]:
        """The UIDs of every tag in the field, in any order, without repeats."""

    @abstractmethod
    def read_blocks(self, uid: str, first: int, count: int) -> bytes:
        """`count` blocks of `BLOCK_SIZE` bytes from the tag `uid`, starting at block `first`."""

    @abstractmethod
    def read_afi(self, uid: str) -> int:
        """The tag's Application Family Identifier."""

    @abstractmethod
    def write_afi(self, uid: str, afi: int) -> None:
        """Write the AFI of the one tag `uid` (addressed mode). Never locks it."""

    def confirm(self, uid: str) -> None:
        """Ask `uid` for something whose reply names it; ReaderError when no such reply came.
        Only asked of links without `checked_inventory`."""
        raise NotSupported(f"{self.name} cannot confirm a UID")

    def _note_skipped(self, count: int) -> None:
        if not count:
            return
        self.skipped_bytes += count
        detail = f"skipped {count} bytes of noise around a reply"
        if self.on_garbage is not None:
            self.on_garbage(detail)
        else:
            log.warning("%s: %s", self.name, detail)

    def _note_settled(self, dropped: int) -> None:
        if dropped:  # the late reply the settling was for: logged, not counted again as noise
            self.skipped_bytes += dropped
            log.info("%s: dropped %d bytes that came after their request had timed out",
                     self.name, dropped)

    def read_eas(self, uid: str) -> bool:
        """Whether the NXP EAS bit of `uid` is set."""
        raise NotSupported(f"{self.name} cannot read EAS")

    def write_eas(self, uid: str, on: bool) -> None:
        """Set or reset the NXP EAS bit of `uid`. Never locks it."""
        raise NotSupported(f"{self.name} cannot set EAS")


def seconds(value: float) -> str:
    """A wait as people read it: 0.4, 2.5, 0.45 (never 0.39999 or 0.400)."""
    return f"{value:.2f}".rstrip("0").rstrip(".")
