"""`M810Link`: a 3M / bibliotheca 810 (or 210) pad on a serial port, 19200 8N1.

Each call is one or more request/reply exchanges; the frames themselves are built and checked
in `drivers.rfid.m810_frames`. Used only by the pad driver's device thread.

A reply is read with a deadline: bytes before its start byte are skipped and reported through
`on_garbage` (the pad counts them as a fault), a broken reply raises `BadFrame`, none raises
`ReaderTimeout`, and a tag that does not answer an addressed command raises `TagNotAnswering`.
An unplugged reader shows as the port's own `serial.SerialException` / `OSError`.

Replies are matched to requests by what the frame carries: the command byte, and for a command
addressed to a tag its UID and first block (`reply_fits`); other frames are late replies to
earlier requests, skipped. After a timeout or a broken reply the link settles the line with a
version probe before its next request (see `drivers.rfid.link`).
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import serial

from drivers.errors import BadFrame, ReaderTimeout, TagNotAnswering
from drivers.rfid.link import ReaderLink, seconds
from drivers.rfid.m810_frames import (
    GET_AFI,
    INVENTORY,
    MAX_BLOCKS_PER_READ,
    PROBE_COMMAND,
    READ_BLOCKS,
    SETUP_START,
    START,
    WRITE_AFI,
    Frame,
    Packetizer,
    check_write_afi,
    decode_afi,
    decode_blocks,
    decode_inventory,
    decode_version,
    get_afi_request,
    inventory_request,
    probe_request,
    read_blocks_request,
    reply_fits,
    write_afi_request,
)

log = logging.getLogger(__name__)
wire = logging.getLogger(__name__ + ".wire")

REPLY_TIMEOUT_S = 0.4  # request sent to reply complete; a reply byte takes ~0.5 ms at 19200
BYTE_GAP_S = 0.1  # a reply that has begun may pause this long between chunks
LONGEST_EXCHANGE_S = 2.5  # hard cap: even MAX_LENGTH bytes take 2.1 s on the line
READ_SLICE_S = 0.05  # longest single wait on the port, so the deadline is kept
WRITE_AFI_TRIES = 3  # a tag at the pad's edge often misses one write (Biblio::RFID retries too)


class M810Link(ReaderLink):
    baud = 19200
    name = "3m810"

    def __init__(self, port: serial.Serial, *, timeout: float = REPLY_TIMEOUT_S,
                 on_garbage: Callable[[str], None] | None = None) -> None:
        super().__init__(port, timeout=timeout, read_slice_s=READ_SLICE_S, on_garbage=on_garbage)

    def probe(self) -> str:
        # The D5 probe 3M's own software opens with; its reply carries the firmware version.
        return decode_version(self._exchange(probe_request(), PROBE_COMMAND, start=SETUP_START))

    def inventory(self) -> list[str]:
        # One reply lists every tag (a 1-byte count); the protocol has no paging.
        return decode_inventory(self._exchange(inventory_request(), INVENTORY))

    def read_blocks(self, uid: str, first: int, count: int) -> bytes:
        if first < 0 or count < 1:
            raise ValueError(f"cannot read {count} blocks from block {first}")
        data = bytearray()
        for start in range(first, first + count, MAX_BLOCKS_PER_READ):
            n = min(MAX_BLOCKS_PER_READ, first + count - start)
            reply = self._exchange(read_blocks_request(uid, start, n), READ_BLOCKS, uid=uid,
                                   first_block=start)
            data += decode_blocks(reply, uid, start, n)
        return bytes(data)

    def read_afi(self, uid: str) -> int:
        return decode_afi(self._exchange(get_afi_request(uid), GET_AFI, uid=uid), uid)

    def write_afi(self, uid: str, afi: int) -> None:
        request = write_afi_request(uid, afi)  # addressed to the one tag; never locks it
        for attempt in range(1, WRITE_AFI_TRIES + 1):
            try:
                check_write_afi(self._exchange(request, WRITE_AFI, uid=uid), uid)
                return
            except TagNotAnswering:
                if attempt == WRITE_AFI_TRIES:
                    raise
                log.info("%s: tag %s missed AFI write %d of %d, trying again",
                         self.name, uid, attempt, WRITE_AFI_TRIES)

    # --- one exchange ---------------------------------------------------------------------

    def _exchange(self, request: bytes, command: int, *, start: int = START,
                  uid: str | None = None, first_block: int | None = None,
                  settling: bool = False) -> Frame:
        """Send `request`, return the first reply that fits it (`reply_fits`)."""
        if self.unsettled and not settling:
            self._settle()
        self._discard_stale(settling)
        wire.debug(">> %s", request.hex(" "))
        self.port.write(request)
        packetizer = Packetizer(bytes([START, SETUP_START]))
        stray = 0
        began = time.monotonic()
        deadline, last_chance = began + self.timeout, began + LONGEST_EXCHANGE_S
        try:
            while True:
                frame = packetizer.next_frame()
                out_of_time = frame is None and time.monotonic() >= deadline
                if out_of_time:
                    frame = packetizer.salvage()  # a start byte in noise held a reply back
                if frame is not None:
                    wire.debug("<< %02X status %s, %d bytes", frame.command,
                               f"{frame.body[0]:02X}" if frame.body else "-", len(frame.body))
                    if reply_fits(frame, command, start=start, uid=uid, first_block=first_block):
                        return frame
                    stray += 6 + len(frame.body)  # a late reply to an earlier request
                    continue
                if out_of_time:
                    raise ReaderTimeout(f"no complete reply to command {command:02X} "
                                        f"within {seconds(deadline - began)} s")
                chunk = self.port.read(self.port.in_waiting or 1)
                if chunk:
                    packetizer.feed(chunk)
                    deadline = min(last_chance, max(deadline, time.monotonic() + BYTE_GAP_S))
        except (ReaderTimeout, BadFrame):
            self.unsettled = True
            raise
        finally:
            if settling:
                self._note_settled(packetizer.skipped + stray)
            else:
                self._note_skipped(packetizer.skipped + stray)

    def _settle(self) -> None:
        """A late reply may still be coming: whatever arrives before the answer to a version
        probe belongs to no request of ours."""
        try:
            self._exchange(probe_request(), PROBE_COMMAND, start=SETUP_START, settling=True)
        except ReaderTimeout as e:
            raise ReaderTimeout(f"no answer to a version probe after a late or broken "
                                f"reply: {e}") from None
        self.unsettled = False

    def _discard_stale(self, settling: bool = False) -> None:
        """Bytes left from an earlier exchange (a reply that came too late) are not ours."""
        waiting = self.port.in_waiting
        if waiting:
            dropped = len(self.port.read(waiting))
            if settling:
                self._note_settled(dropped)
            else:
                self._note_skipped(dropped)
