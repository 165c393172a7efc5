"""`Trf7970aLink`: a TI TRF7970A evaluation board ("RFIDGeek") on a serial port, 115200 8N1.

Each call is one or more request/reply exchanges; the frames are built and the board's text is
read in `drivers.rfid.trf7970a_frames`. Used only by the pad driver's device thread.

The board's replies have no checksum and no end marker (so a UID from an inventory is only
believed once `confirm()` read the tag's system information, or a second inventory holds it): an
exchange ends when the expected line or bracket has arrived, or, where the firmware prints an
open-ended list (the inventory, the AGC and AM/PM switches on older firmware), when the line has
been quiet for a moment. Noise around a
reply is skipped and reported through `on_garbage`; a reply that cannot be parsed raises
`BadFrame`, none at all `ReaderTimeout`, and a tag that does not answer an addressed command
`TagNotAnswering`. An unplugged board shows as the port's own `serial.SerialException`.

Replies are matched to requests as far as the board's text allows. The classic firmware echoes
each request, so only what follows the echo of this request counts (a late reply to another
request comes before it and is dropped); the 2013 firmware echoes nothing, and its request-mode
replies carry nothing that names the request. So after a timeout or a broken reply the link
settles the line with a ping before its next request (see `drivers.rfid.link`).

Collisions: ISO 15693 puts a tag in a slot by its UID bits, so asking again puts the same tags in
the same slot: repeating an inventory never separates them. The board's firmware runs the
standard mask recursion itself (TI's iso15693.c); when its reply shows collisions it did not
sort out, this link runs the recursion from the host, one masked 1-slot inventory at a time
(the board's 0x14 command ignores a mask, its 0x18 request mode sends one as given).
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import serial

from drivers.errors import BadFrame, NotSupported, ReaderError, ReaderTimeout, TagNotAnswering
from drivers.rfid.link import ReaderLink, seconds
from drivers.rfid.trf7970a_frames import (
    GET_SYSTEM_INFO,
    MAX_BLOCKS_PER_READ,
    NXP_EAS_ALARM,
    NXP_RESET_EAS,
    NXP_SET_EAS,
    READ_MULTIPLE_BLOCKS,
    UID_BYTES,
    WRITE_AFI,
    Cut,
    InventoryResult,
    ReplyReader,
    SystemInfo,
    TagReply,
    decode_blocks,
    decode_found,
    decode_inventory,
    decode_system_info,
    decode_tag_reply,
    eas_request,
    firmware_request,
    inventory_request,
    iso15693_setup_requests,
    masked_inventory_request,
    ping_request,
    read_blocks_request,
    system_info_request,
    tag_body,
    write_afi_request,
)

log = logging.getLogger(__name__)
wire = logging.getLogger(__name__ + ".wire")

REPLY_TIMEOUT_S = 0.4  # request sent to reply complete; the board answers within tens of ms
BYTE_GAP_S = 0.2  # a reply that has begun may pause this long between chunks
QUIET_S = 0.06  # silence that ends an open-ended reply; the firmware's longest pause is ~20 ms
LONGEST_EXCHANGE_S = 3.0  # hard cap: a 16-slot inventory with sub-rounds is ~2 kB, 0.2 s at 115200
READ_SLICE_S = 0.02  # longest single wait on the port, so quiet and deadlines are noticed
WRITE_TRIES = 3  # a tag at the pad's edge often misses one write
MAX_MASKED_INVENTORIES = 600  # 64 levels of 2 requests, several times over; beyond it, noise
INVENTORY_LINE, REQUEST_LINE = "Inventory request", "Request mode"  # printed before results

Done = Callable[[ReplyReader], bool]


class Trf7970aLink(ReaderLink):
    baud = 115200
    name = "trf7970a"
    checked_inventory = False  # the board's text has no checksum: a UID may be line noise

    def __init__(self, port: serial.Serial, *, timeout: float = REPLY_TIMEOUT_S,
                 on_garbage: Callable[[str], None] | None = None) -> None:
        super().__init__(port, timeout=timeout, read_slice_s=READ_SLICE_S, on_garbage=on_garbage)
        self.host_anticollisions = 0  # inventories the board left collisions in
        self.echoes = False  # the board echoes each request (classic firmware): learnt at probe

    # --- ReaderLink -----------------------------------------------------------------------

    def probe(self) -> str:
        """Ping the board, ask its firmware version, then set it up for ISO 15693."""
        self.echoes = False
        ping = self._exchange(ping_request(), _line("EVM"))
        evm, self.echoes = ping.line_with("EVM"), ping.echoed
        try:
            firmware = self._exchange(firmware_request(), _line("Firmware")).line_with("Firmware")
        except (ReaderTimeout, BadFrame):
            firmware = None  # only for the admin screen; the ping already proved the board
        registers, agc, am_input = iso15693_setup_requests()
        self._exchange(registers, _line("Register write request"), quiet_after=_anything)
        # Older firmware answers these two with the echo alone, newer with "... Toggle".
        for request in (agc, am_input):
            self._exchange(request, lambda r: r.echoed or r.line_with("Toggle") is not None,
                           quiet_after=_anything)
        return ", ".join(text for text in (evm, firmware) if text)

    def inventory(self) -> list[str]:
        reply = self._exchange(inventory_request(), _inventory_complete,
                               quiet_after=_inventory_started, results_after=INVENTORY_LINE)
        result = decode_inventory(reply.groups)
        found = dict.fromkeys(result.uids)
        if not result.resolved:
            self.host_anticollisions += 1
            log.info("%s: %d collisions left by the board, resolving them by mask",
                     self.name, result.collisions)
            self._resolve_by_mask(found)
        return list(found)

    def read_blocks(self, uid: str, first: int, count: int) -> bytes:
        if first < 0 or count < 1:
            raise ValueError(f"cannot read {count} blocks from block {first}")
        data = bytearray()
        for start in range(first, first + count, MAX_BLOCKS_PER_READ):
            n = min(MAX_BLOCKS_PER_READ, first + count - start)
            reply = self._tag_request(read_blocks_request(uid, start, n))
            data += decode_blocks(tag_body(reply, uid, READ_MULTIPLE_BLOCKS), uid, n)
        return bytes(data)

    def read_afi(self, uid: str) -> int:
        info = self.system_info(uid)
        if info.afi is None:
            raise NotSupported(f"tag {uid} does not report an AFI")
        return info.afi

    def write_afi(self, uid: str, afi: int) -> None:
        self._write(write_afi_request(uid, afi), uid, WRITE_AFI,  # addressed; never locks
                    written=lambda: self.read_afi(uid) == afi)

    def read_eas(self, uid: str) -> bool:
        # An armed ICODE tag answers EAS Alarm with its EAS sequence; a disarmed one stays
        # silent, which looks like a lifted tag: a silent tag must still answer something else.
        reply = self._tag_request(eas_request(uid, NXP_EAS_ALARM))
        if reply.data is None and not reply.collision:
            self.system_info(uid)  # raises TagNotAnswering when the tag is gone
            return False
        tag_body(reply, uid, NXP_EAS_ALARM)
        return True

    def write_eas(self, uid: str, on: bool) -> None:
        command = NXP_SET_EAS if on else NXP_RESET_EAS
        self._write(eas_request(uid, command), uid, command,  # addressed; never locks
                    written=lambda: self.read_eas(uid) == on)

    def confirm(self, uid: str) -> None:
        """The tag's system information names its UID: only a real tag sends it."""
        self.system_info(uid)

    # --- more than ReaderLink asks --------------------------------------------------------

    def system_info(self, uid: str) -> SystemInfo:
        reply = self._tag_request(system_info_request(uid))
        return decode_system_info(tag_body(reply, uid, GET_SYSTEM_INFO), uid)

    # --- tags -----------------------------------------------------------------------------

    def _resolve_by_mask(self, found: dict[str, None]) -> None:
        """Every tag, by 1-slot inventories on ever longer masks of the UID's low bits."""
        pending = [(0, 0)]  # (mask value, mask bits)
        asked = 0
        while pending:
            value, bits = pending.pop()
            asked += 1
            if asked > MAX_MASKED_INVENTORIES:
                raise BadFrame(f"anticollision did not settle after {asked - 1} inventories")
            reply = self._tag_request(masked_inventory_request(value, bits))
            if reply.collision:
                if bits < 8 * UID_BYTES:  # at 64 bits two tags share a UID: nothing to split
                    pending += [(value | 1 << bits, bits + 1), (value, bits + 1)]
            elif reply.data is not None:
                found.setdefault(decode_found(reply, value, bits))
        log.debug("%s: mask anticollision took %d inventories", self.name, asked)

    def _write(self, request: bytes, uid: str, command: int, written: Callable[[], bool]) -> None:
        """A write, tried again when unanswered, unless reading back shows it was done: ISO 15693
        gives a tag 20 ms to answer a write, and TI's firmware stops listening after ~10 ms."""
        for attempt in range(1, WRITE_TRIES + 1):
            try:
                tag_body(self._tag_request(request), uid, command)
                return
            except TagNotAnswering:
                try:
                    done = written()  # raises TagNotAnswering itself when the tag has gone
                except NotSupported as e:  # the write went out: this is no "nothing sent"
                    raise ReaderError(f"tag {uid} cannot be read back: {e}") from e
                if done:
                    log.info("%s: tag %s answered write %02X too late; read back, it is done",
                             self.name, uid, command)
                    return
                if attempt == WRITE_TRIES:
                    raise
                log.info("%s: tag %s missed write %02X (%d of %d), trying again",
                         self.name, uid, command, attempt, WRITE_TRIES)

    def _tag_request(self, request: bytes) -> TagReply:
        """One ISO 15693 request in the board's request mode: the first bracket is the answer."""
        reply = self._exchange(request, lambda r: bool(r.groups), results_after=REQUEST_LINE)
        try:
            return decode_tag_reply(reply.groups[0])
        except BadFrame:
            self.unsettled = True  # the rest of a damaged reply may still come
            raise

    # --- one exchange ---------------------------------------------------------------------

    def _exchange(self, request: bytes, done: Done, *, quiet_after: Done | None = None,
                  results_after: str | None = None, settling: bool = False) -> ReplyReader:
        """Send `request`; read until `done`, or until quiet once `quiet_after` holds. On a
        board that echoes, only what follows this request's echo counts; with
        `results_after`, only the brackets after the line that names the command."""
        if self.unsettled and not settling:
            self._settle()
        self._discard_stale(settling)
        wire.debug(">> %s", request.decode("ascii"))
        self.port.write(request)
        reader = ReplyReader(request, after_echo=self.echoes, results_after=results_after)
        ours = (lambda r: r.echoed) if self.echoes else (lambda r: True)
        began = time.monotonic()
        deadline, last_chance = began + self.timeout, began + LONGEST_EXCHANGE_S
        last_byte = began
        try:
            while not (ours(reader) and done(reader)):
                now = time.monotonic()
                if quiet_after is not None and reader.received and not reader.open_group \
                        and now - last_byte >= QUIET_S and ours(reader) and quiet_after(reader):
                    break
                if now >= deadline:
                    raise _no_reply(reader, request, deadline - began)
                chunk = self.port.read(self.port.in_waiting or 1)
                if chunk:
                    wire.debug("<< %r", chunk)
                    reader.feed(chunk)
                    last_byte = time.monotonic()
                    deadline = min(last_chance, max(deadline, last_byte + BYTE_GAP_S))
            return reader
        except (ReaderTimeout, BadFrame):
            self.unsettled = True
            raise
        finally:
            if settling:
                self._note_settled(reader.noise)
            else:
                self._note_skipped(reader.noise)

    def _settle(self) -> None:
        """A late reply may still be coming: whatever arrives before the answer to a ping
        belongs to no request of ours."""
        try:
            self._exchange(ping_request(), _line("EVM"), settling=True)
        except ReaderTimeout as e:
            raise ReaderTimeout(f"no answer to a ping after a late or broken reply: {e}") \
                from None
        self.unsettled = False

    def _discard_stale(self, settling: bool = False) -> None:
        """Bytes left from an earlier exchange (a late line) are not this exchange's."""
        waiting = self.port.in_waiting
        if waiting:
            dropped = len(self.port.read(waiting).strip())
            if settling:
                self._note_settled(dropped)
            else:
                self._note_skipped(dropped)


def _no_reply(reader: ReplyReader, request: bytes, allowed: float) -> Exception:
    """Nothing at all is a timeout; something that never became a reply is a bad frame."""
    command = request[10:12].decode("ascii")
    if command == "18":  # request mode: name the ISO 15693 command too
        command += "/" + request[14:16].decode("ascii")
    if reader.open_group or reader.noise_lines:
        shown = reader.noise_lines[-1] if reader.noise_lines else "an unfinished [..."
        return BadFrame(f"no usable reply to command {command}: {shown!r}")
    return ReaderTimeout(f"no complete reply to command {command} within {seconds(allowed)} s")


# --- when a reply is complete -------------------------------------------------------------

def _line(phrase: str) -> Done:
    return lambda reader: reader.line_with(phrase) is not None


def _anything(reader: ReplyReader) -> bool:
    return reader.received > 0


def _inventory_started(reader: ReplyReader) -> bool:
    return reader.line_with("Inventory request") is not None or bool(reader.groups)


def _inventory_complete(reader: ReplyReader) -> bool:
    """Older firmware prints every slot, so its reply is whole once each collision's sub-round
    is in; newer firmware prints only the tags found, and its reply ends in silence."""
    if any(isinstance(group, Cut) for group in reader.groups):
        return True  # decode_inventory says what is wrong
    try:
        result: InventoryResult = decode_inventory(reader.groups)
    except BadFrame:
        return True
    every_slot_printed = result.slots > len(result.uids)  # empty or collided slots are shown
    return every_slot_printed and result.resolved and result.slots >= 16
