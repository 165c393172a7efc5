"""The simulated TI TRF7970A evaluation board: answers the real link from a `SimPad`, over a pty.

`Trf7970aSimulator.reply_to(data)` runs on the `PtyDevice` thread with every chunk the driver
wrote. It keeps the hex text until a whole frame is there (as the firmware does: only hex digits
count, the length byte says where a frame ends), then answers as TI's EVM firmware would, in
one of two generations:

- "classic" (default): echoes each request, prints every inventory slot (`[UID,RSSI]`,
  `[,RSSI]` or `[z,RSSI]`), and leaves no line end after a request-mode bracket;
- "2013" (TI's Firmware Revision 03): no echo, prints only the tags found, ends every reply
  with a line end.

Both run the mask recursion for collided slots themselves, as TI's iso15693.c does; with
`board_anticollision=False` the classic board stops at `[z,RSSI]` and leaves the collision to
the host, so the link's own anticollision is exercised. Tags answer only once the link has
switched the RF field on and selected ISO 15693 at the data rate its flags ask for. Writes
answered after the firmware stopped listening can be staged with `late_write_answers`.

Lock commands are never carried out: they are recorded with `pad.refuse_lock()` and answered
with an error, so tests can prove the driver never sent one. The pad's faults act on the line,
after the board has done what was asked: "lost" loses the reply, "garbage" puts noise in
front of it, "late" holds it back until the next frame arrives and sends it just before that
frame's own reply, and "corrupt" cuts the reply off in the middle of its first bracket (or,
when it has none, in the middle of its text) and ends the line there, as a UART that dropped
bytes would: the protocol has no checksum, so damage shows only as text that does not parse.
"garbled" changes one hex digit in the first bracket that holds some, as line noise may: an
inventory then names a tag that does not exist, and nothing in the text shows it.
An "unheard" request is neither carried out nor answered. A tag the pad makes unreadable for
security reads stays silent to Get System Information and EAS Alarm.
"""

from __future__ import annotations

import logging
from enum import Enum
from pathlib import Path
from typing import Final

from drivers.errors import BadFrame
from drivers.rfid.link import BLOCK_SIZE
from drivers.rfid.trf7970a_frames import (
    AGC,
    AM_PM,
    CHIP_STATUS,
    FIRMWARE_VERSION,
    FLAG_ADDRESSED,
    FLAG_AFI,
    FLAG_HIGH_RATE,
    FLAG_INVENTORY,
    FLAG_ONE_SLOT,
    GET_SYSTEM_INFO,
    INVENTORY,
    ISO_CONTROL,
    ISO_INVENTORY,
    LOCKS,
    NXP,
    NXP_EAS_ALARM,
    NXP_RESET_EAS,
    NXP_SET_EAS,
    PING,
    READ_MULTIPLE_BLOCKS,
    READ_SINGLE_BLOCK,
    REGISTER_WRITE,
    REQUEST,
    SLOTS,
    UID_BYTES,
    WRITE_AFI,
    WRITE_SINGLE_BLOCK,
    Frame,
    FrameAssembler,
    build_frame,
    manufacturer,
    uid_from_air,
    uid_matches,
    uid_to_air,
)
from drivers.sim.pty_port import PtyDevice
from drivers.sim.rfid_pad import LineFault, Op, SimPad, SimTag

log = logging.getLogger(__name__)

BAUD = 115200
FIRMWARES = ("classic", "2013")
EVM_TEXT = "TRF7970A EVM "  # both firmware generations end their texts with a space
FIRMWARE_TEXT = "Firmware Revision 03 from 11/Nov/2013 "  # TI's host.c
RSSI_EMPTY, RSSI_TAG, RSSI_COLLISION = 0x40, 0x6E, 0x7F  # 0x40: the oscillator-ok bit alone
CHIP_RF_ON, CHIP_AGC_ON, CHIP_PM_ON = 0x20, 0x04, 0x08
# A tag's answer to a command the simulator will not carry out (a lock): "unknown error".
REFUSED = bytes([0x01, 0x0F])
NOT_SUPPORTED = bytes([0x01, 0x01])
NOT_RECOGNISED = bytes([0x01, 0x02])
BLOCK_NOT_AVAILABLE = bytes([0x01, 0x10])
OK = bytes([0x00])
# What an armed ICODE tag sends for EAS Alarm: 32 bytes. NXP specifies a fixed sequence; this
# one is the simulator's own, since the link only checks that one arrives.
EAS_SEQUENCE = bytes(range(0xE0, 0x100))
IC_REFERENCE = 0x01
WRITES = (WRITE_SINGLE_BLOCK, WRITE_AFI, NXP_SET_EAS, NXP_RESET_EAS)
# What a fault planned for each kind of ISO 15693 request hits (through the 0x18 request mode).
OPS = {ISO_INVENTORY: Op.INVENTORY, READ_SINGLE_BLOCK: Op.READ_BLOCKS,
       READ_MULTIPLE_BLOCKS: Op.READ_BLOCKS, GET_SYSTEM_INFO: Op.READ_SECURITY,
       NXP_EAS_ALARM: Op.READ_SECURITY, WRITE_AFI: Op.WRITE_SECURITY,
       NXP_SET_EAS: Op.WRITE_SECURITY, NXP_RESET_EAS: Op.WRITE_SECURITY}


class _Collision(Enum):
    """A sentinel with a type of its own, so that `is COLLISION` tells mypy what is left."""
    COLLISION = "several tags answered one request"


COLLISION: Final = _Collision.COLLISION


class Trf7970aSimulator:
    def __init__(self, pad: SimPad, *, firmware: str = "classic",
                 board_anticollision: bool = True) -> None:
        if firmware not in FIRMWARES:
            raise ValueError(f"firmware must be one of {', '.join(FIRMWARES)}")
        if firmware == "2013" and not board_anticollision:
            raise ValueError("the 2013 firmware prints no collisions, so it must resolve them")
        self.pad = pad
        self.firmware = firmware
        self.board_anticollision = board_anticollision
        self.frames: list[Frame] = []  # every frame received, for tests to inspect
        self.ignored = 0  # frames the board would not understand
        # Writes carried out whose answer comes after the firmware stopped listening (ISO 15693
        # gives a tag 20 ms, TI's firmware waits ~10 ms): the board prints [] for the next ones.
        self.reset()

    def reset(self) -> None:
        """Powered up: registers as at power-on, nothing half read, no answer held back."""
        self.late_write_answers = 0
        self.registers = {CHIP_STATUS: 0x01, ISO_CONTROL: 0x02}  # power-on: RF off
        self._assembler = FrameAssembler()
        self._late = bytearray()  # replies held back by a "late" fault

    def reply_to(self, data: bytes) -> bytes:
        replies = bytearray()
        for frame in self._assembler.feed(data):
            self.frames.append(frame)
            replies += self._late  # a late reply lands while the next request waits
            self._late.clear()
            if not self.pad.take_unheard(_op(frame)):
                replies += self._on_the_line(self._answer(frame), _op(frame))
        return bytes(replies)

    # --- the firmware's host loop ---------------------------------------------------------

    def _answer(self, frame: Frame) -> str:
        classic = self.firmware == "classic"
        echo = build_frame(frame.command, frame.payload).decode("ascii") + "\r\n" \
            if classic else ""
        body = self._body(frame)
        if body is None:
            self.ignored += 1
            log.debug("TRF7970A simulator ignores command %02X %s", frame.command,
                      frame.payload.hex(" "))
            body = "Unknown command.\r\n" if classic else ""
        return echo + body + ("" if classic else "\r\n")

    def _body(self, frame: Frame) -> str | None:
        command, payload = frame.command, frame.payload
        classic = self.firmware == "classic"
        if command == PING:
            return EVM_TEXT + "\r\n"
        if command == FIRMWARE_VERSION:
            return FIRMWARE_TEXT + "\r\n"
        if command == REGISTER_WRITE and payload and len(payload) % 2 == 0:
            for address, value in zip(payload[::2], payload[1::2]):
                self.registers[address] = value
            return "Register write request.\r\n"
        if command == AGC and len(payload) == 1:
            self._chip_bit(CHIP_AGC_ON, payload[0] == 0xFF)  # FF sets the AGC bit (host.c)
            return "" if classic else "AGC Toggle"
        if command == AM_PM and len(payload) == 1:
            self._chip_bit(CHIP_PM_ON, payload[0] != 0xFF)  # FF selects the AM input
            return "" if classic else "AM PM Toggle"
        if command == INVENTORY and payload:
            return "ISO 15693 Inventory request.\r\n" + self._board_inventory(payload)
        if command == REQUEST and len(payload) >= 2:
            answer = self._iso_request(payload[0], payload[1], payload[2:])
            group = "z" if answer is COLLISION else "" if answer is None else answer.hex().upper()
            return f"Request mode.\r\n[{group}]"
        return None

    def _chip_bit(self, bit: int, on: bool) -> None:
        status = self.registers.get(CHIP_STATUS, 0)
        self.registers[CHIP_STATUS] = status | bit if on else status & ~bit

    def _radio_hears(self, flags: int) -> bool:
        """Tags hear and are understood only with RF on, ISO 15693 selected, and the data rate the
        reader decodes (ISO control bit 1) equal to the one the request asks the tags for."""
        iso = self.registers.get(ISO_CONTROL, 0) & 0x1F
        return bool(self.registers.get(CHIP_STATUS, 0) & CHIP_RF_ON) and iso < 0x08 \
            and bool(iso & 0x02) == bool(flags & FLAG_HIGH_RATE)

    # --- 0x14: the board's anticollision --------------------------------------------------

    def _board_inventory(self, payload: bytes) -> str:
        flags = payload[0]
        afi = payload[2] if flags & FLAG_AFI and len(payload) > 2 else None
        tags = [tag for tag in self.pad.present() if afi is None or _in_family(tag.afi, afi)] \
            if self._radio_hears(flags) else []
        slots = 1 if flags & FLAG_ONE_SLOT else SLOTS
        results: list[SimTag | _Collision | None] = []  # per slot: the tag, COLLISION or None
        self._round(tags, 0, 0, slots, results)
        if self.firmware == "2013":
            return "".join(f"\r\n[{_air(tag)},{RSSI_TAG:02X}]" for tag in results
                           if isinstance(tag, SimTag))
        lines = []
        for result in results:
            if isinstance(result, SimTag):
                lines.append(f"[{_air(result)},{RSSI_TAG:02X}]\r\n")
            elif result is COLLISION:
                lines.append(f"[z,{RSSI_COLLISION:02X}]\r\n")
            else:
                lines.append(f"[,{RSSI_EMPTY:02X}]\r\n")
        return "".join(lines)

    def _round(self, tags: list[SimTag], value: int, bits: int, slots: int,
               results: list[SimTag | _Collision | None]) -> None:
        """One inventory round under mask `value`/`bits`; TI's firmware then runs a sub-round for
        each collided slot, the last one first."""
        collided = []
        for slot in range(slots):
            mask, width = (value | slot << bits, bits + 4) if slots == SLOTS else (value, bits)
            here = [tag for tag in tags if uid_matches(tag.uid, mask, width)]
            if len(here) > 1:
                results.append(COLLISION)
                collided.append(mask)
            else:
                results.append(here[0] if here else None)
        if slots == SLOTS and self.board_anticollision and bits + 4 < 8 * UID_BYTES:
            for mask in reversed(collided):
                self._round(tags, mask, bits + 4, SLOTS, results)

    # --- 0x18: one ISO 15693 request ------------------------------------------------------

    def _iso_request(self, flags: int, command: int, parameters: bytes
                     ) -> bytes | _Collision | None:
        """What the tags in the field answer: bytes from one, COLLISION from several, None."""
        if not self._radio_hears(flags):
            return None
        if flags & FLAG_INVENTORY:
            return self._masked_inventory(flags, command, parameters)
        tags = self.pad.present()
        if command >= 0xA0:  # custom commands name the manufacturer that must answer
            if not parameters:
                return None
            tags = [tag for tag in tags if manufacturer(tag.uid) == parameters[0]]
            parameters = parameters[1:]
        if flags & FLAG_ADDRESSED:
            if len(parameters) < UID_BYTES:
                return None
            try:
                uid = uid_from_air(parameters[:UID_BYTES])
            except BadFrame:  # not a UID: no tag recognises itself
                return None
            tags = [tag for tag in tags if tag.uid == uid]
            parameters = parameters[UID_BYTES:]
        answers = [answer for answer in (self._execute(tag, command, parameters) for tag in tags)
                   if answer is not None]
        if answers and command in WRITES and self.late_write_answers:
            self.late_write_answers -= 1
            return None
        if len(answers) > 1:
            return COLLISION
        return answers[0] if answers else None

    def _masked_inventory(self, flags: int, command: int,
                          parameters: bytes) -> bytes | _Collision | None:
        if command != ISO_INVENTORY or not parameters:
            return None
        afi = None
        if flags & FLAG_AFI:
            afi, parameters = parameters[0], parameters[1:]
        bits = parameters[0] if parameters else 0
        size = (bits + 7) // 8
        if bits > 64 or len(parameters) != 1 + size:
            return None
        value = int.from_bytes(parameters[1:], "little")
        if not flags & FLAG_ONE_SLOT:  # request mode hears slot 0 of a 16-slot round only
            bits += 4
        here = [tag for tag in self.pad.present()
                if uid_matches(tag.uid, value, bits) and (afi is None or _in_family(tag.afi, afi))]
        if len(here) > 1:
            return COLLISION
        return bytes([0x00, here[0].dsfid]) + uid_to_air(here[0].uid) if here else None

    def _execute(self, tag: SimTag, command: int, parameters: bytes) -> bytes | None:
        """One tag's reply (flags byte first), or None when it stays silent."""
        uid = tag.uid
        if command in LOCKS:
            self.pad.refuse_lock(LOCKS[command], uid)
            log.error("the driver sent a lock command (%02X) to %s: refused", command, uid)
            return REFUSED
        if command == READ_SINGLE_BLOCK and len(parameters) == 1:
            return _data(self.pad.read(uid, parameters[0], 1))
        if command == READ_MULTIPLE_BLOCKS and len(parameters) == 2:
            return _data(self.pad.read(uid, parameters[0], parameters[1] + 1))
        if command == WRITE_SINGLE_BLOCK and len(parameters) == 1 + BLOCK_SIZE:
            done = self.pad.write(uid, parameters[0], parameters[1:])
            return OK if done else BLOCK_NOT_AVAILABLE
        if command == WRITE_AFI and len(parameters) == 1:
            return OK if self.pad.set_afi(uid, parameters[0]) else None
        if command in (GET_SYSTEM_INFO, NXP_EAS_ALARM) and not self.pad.security_answering(uid):
            return None  # a security read this tag does not answer
        if command == GET_SYSTEM_INFO and not parameters:
            blocks = len(tag.memory) // BLOCK_SIZE
            return bytes([0x00, 0x0F]) + uid_to_air(uid) + bytes(
                [tag.dsfid, tag.afi, blocks - 1, BLOCK_SIZE - 1, IC_REFERENCE])
        if command in (NXP_SET_EAS, NXP_RESET_EAS) and not parameters and manufacturer(uid) == NXP:
            return OK if self.pad.set_eas(uid, command == NXP_SET_EAS) else None
        if command == NXP_EAS_ALARM and not parameters and manufacturer(uid) == NXP:
            return OK + EAS_SEQUENCE if tag.eas else None  # a disarmed tag stays silent
        if command in (READ_SINGLE_BLOCK, READ_MULTIPLE_BLOCKS, WRITE_SINGLE_BLOCK, WRITE_AFI,
                       GET_SYSTEM_INFO, NXP_SET_EAS, NXP_RESET_EAS, NXP_EAS_ALARM):
            return NOT_RECOGNISED  # a known command with the wrong parameters
        return NOT_SUPPORTED

    # --- the line -------------------------------------------------------------------------

    def _on_the_line(self, reply: str, op: Op) -> bytes:
        if not reply:
            return b""
        raw = reply.encode("ascii")
        fault = self.pad.take_fault(op)
        if fault is LineFault.LOST:
            return b""
        if fault is LineFault.CORRUPT:
            return _cut(raw)
        if fault is LineFault.GARBLED:
            return _garbled(raw)
        if fault is LineFault.GARBAGE:
            return self.pad.take_garbage() + raw
        if fault is LineFault.LATE:
            self._late += raw
            return b""
        return raw


def _op(frame: Frame) -> Op:
    if frame.command == INVENTORY:
        return Op.INVENTORY
    if frame.command == REQUEST and len(frame.payload) >= 2:
        return OPS.get(frame.payload[1], Op.OTHER)
    return Op.OTHER


def _air(tag: SimTag) -> str:
    return uid_to_air(tag.uid).hex().upper()


def _data(data: bytes | None) -> bytes:
    return OK + data if data is not None else BLOCK_NOT_AVAILABLE


def _cut(raw: bytes) -> bytes:
    """The reply broken off mid-way: inside its first bracket, else inside its last text line."""
    start = raw.find(b"[")
    if start < 0:
        text = raw.rstrip(b"\r\n")
        line = text.rfind(b"\n") + 1
        return text[:line + (len(text) - line) // 2] + b"\r\n"
    end = raw.find(b"]", start)
    return raw[:start + 1 + max(0, end - start - 1) // 2] + b"\r\n"


def _garbled(raw: bytes) -> bytes:
    """One hex digit changed: the first one opening a bracket (a UID, a tag's flags)."""
    at = raw.find(b"[")
    while at >= 0 and not raw[at + 1:at + 2].isalnum():
        at = raw.find(b"[", at + 1)
    if at < 0:
        return raw
    digit = int(raw[at + 1:at + 2], 16) ^ 1
    return raw[:at + 1] + f"{digit:X}".encode("ascii") + raw[at + 2:]


def _in_family(tag_afi: int, asked: int) -> bool:
    """ISO 15693's AFI match: 00 is everyone; a zero nibble asks for the whole family."""
    if asked == 0 or tag_afi == asked:
        return True
    high, low = asked & 0xF0, asked & 0x0F
    return (low == 0 and tag_afi & 0xF0 == high) or (high == 0 and tag_afi & 0x0F == low)


def start_trf7970a_sim(pad: SimPad, link_path: str | Path, *, paced: bool = True,
                       firmware: str = "classic", board_anticollision: bool = True) -> PtyDevice:
    """A started pty twin at `link_path`; paced to 115200 baud unless `paced` is False."""
    simulator = Trf7970aSimulator(pad, firmware=firmware, board_anticollision=board_anticollision)
    return PtyDevice(simulator.reply_to, link_path, baud=BAUD if paced else None,
                     reset=simulator.reset).start()
