"""The simulated 3M 810: answers the real link's frames from a `SimPad`, over a pty.

`M810Simulator.reply_to(data)` runs on the `PtyDevice` thread with every chunk the driver
wrote. It keeps the bytes until a whole frame is there, ignores frames a real reader would
ignore (bad checksum or length, unknown command), and answers the rest from the pad. Lock
commands are never carried out: they are recorded with `pad.refuse_lock()` so tests can
prove the driver never sent one.

The pad's faults act on the line, after the reader has done what was asked: "lost" loses
the reply, "corrupt" breaks its checksum, "garbled" changes a byte inside it (the checksum
catches that), "garbage" puts noise in front of it, and "late" holds
it back until the next frame arrives, then sends it just before that frame's own reply. An
"unheard" request is neither carried out nor answered.
"""

from __future__ import annotations

import logging
from pathlib import Path

from drivers.errors import BadFrame
from drivers.rfid.link import BLOCK_SIZE
from drivers.rfid.m810_frames import (
    GET_AFI,
    INVENTORY,
    LOCKS,
    MAX_BLOCKS_PER_READ,
    OPTION_DSFID,
    OPTION_UIDS,
    PROBE_COMMAND,
    PROBE_FIELDS,
    READ_BLOCKS,
    READER_VERSION,
    SETUP_START,
    START,
    STATUS_NO_TAG,
    STATUS_OK,
    UID_BYTES,
    VENDOR_3M,
    WRITE_AFI,
    WRITE_BLOCKS,
    Frame,
    Packetizer,
    build_reply,
    uid_text,
)
from drivers.sim.pty_port import PtyDevice
from drivers.sim.rfid_pad import LineFault, Op, SimPad

log = logging.getLogger(__name__)

BAUD = 19200
VERSION = bytes([VENDOR_3M, 5, 0, 2])  # what the 810 in Biblio::RFID's capture reports
# The simulator's answer to a command it will not carry out (a lock, too many blocks, a block
# past the end). The 810's own codes for these cases are not in any public source.
STATUS_REFUSED = 0x01
OPS = {INVENTORY: Op.INVENTORY, READ_BLOCKS: Op.READ_BLOCKS, GET_AFI: Op.READ_SECURITY,
       WRITE_AFI: Op.WRITE_SECURITY}  # what a fault planned for each kind of request hits


class M810Simulator:
    def __init__(self, pad: SimPad) -> None:
        self.pad = pad
        self.ignored = 0  # frames a real reader would not answer
        self.reset()

    def reset(self) -> None:
        """Powered up: nothing half read, no reply held back."""
        self._packetizer = Packetizer(bytes([START, SETUP_START]))
        self._late = bytearray()  # replies held back by a "late" fault

    def reply_to(self, data: bytes) -> bytes:
        self._packetizer.feed(data)
        replies = bytearray()
        while True:
            try:
                frame = self._packetizer.next_frame()
            except BadFrame as e:
                self._ignore(f"broken frame: {e}")
                continue
            if frame is None:
                return bytes(replies)
            replies += self._late  # a late reply lands while the next request waits
            self._late.clear()
            op = OPS.get(frame.command, Op.OTHER) if frame.start == START else Op.OTHER
            if not self.pad.take_unheard(op):
                replies += self._on_the_line(self._answer(frame), op)

    def _on_the_line(self, reply: bytes, op: Op) -> bytes:
        if not reply:
            return b""
        fault = self.pad.take_fault(op)
        if fault is LineFault.LOST:
            return b""
        if fault is LineFault.CORRUPT:
            return reply[:-1] + bytes([reply[-1] ^ 0xFF])
        if fault is LineFault.GARBLED:
            middle = len(reply) // 2
            return reply[:middle] + bytes([reply[middle] ^ 0x10]) + reply[middle + 1:]
        if fault is LineFault.GARBAGE:
            return self.pad.take_garbage() + reply
        if fault is LineFault.LATE:
            self._late += reply
            return b""
        return reply

    def _answer(self, frame: Frame) -> bytes:
        body = frame.body
        if frame.start == SETUP_START:
            if frame.command == PROBE_COMMAND and body == PROBE_FIELDS:
                return build_reply(PROBE_COMMAND, STATUS_OK, bytes([READER_VERSION]) + VERSION,
                                   start=SETUP_START)
            return self._ignore(f"unknown setup frame {frame.command:02X} {body.hex(' ')}")
        if frame.command == INVENTORY and len(body) in (2, 3):  # AFI, options[, protocols]
            return self._inventory(afi=body[0], options=body[1])
        if frame.command == READER_VERSION and not body:
            return build_reply(READER_VERSION, STATUS_OK, VERSION)
        if len(body) < UID_BYTES:
            return self._ignore(f"command {frame.command:02X} without a UID")
        uid, fields = uid_text(body[:UID_BYTES]), body[UID_BYTES:]
        if frame.command in LOCKS:
            self.pad.refuse_lock(LOCKS[frame.command], uid)
            log.error("the driver sent a lock command (%02X) to %s: refused", frame.command, uid)
            return build_reply(frame.command, STATUS_REFUSED, body[:UID_BYTES])
        if frame.command == READ_BLOCKS and len(fields) == 2:
            return self._read_blocks(uid, first=fields[0], count=fields[1])
        if frame.command == WRITE_BLOCKS and len(fields) >= 3:
            return self._write_blocks(uid, first=fields[0], count=fields[1], data=fields[3:])
        if frame.command == GET_AFI and not fields:
            tag = self.pad.security_answering(uid)
            return self._addressed(GET_AFI, uid, None if tag is None else bytes([tag.afi]))
        if frame.command == WRITE_AFI and len(fields) == 1:
            done = self.pad.set_afi(uid, fields[0])
            return self._addressed(WRITE_AFI, uid, b"" if done else None)
        return self._ignore(f"unknown command {frame.command:02X} {body.hex(' ')}")

    def _inventory(self, afi: int, options: int) -> bytes:
        tags = [tag for tag in self.pad.present() if _in_family(tag.afi, afi)][:255]
        entries = bytearray()
        if options & OPTION_UIDS:
            for tag in tags:
                if options & OPTION_DSFID:
                    entries.append(tag.dsfid)
                entries += bytes.fromhex(tag.uid)
        return build_reply(INVENTORY, STATUS_OK, bytes([afi, options, len(tags)]) + entries)

    def _read_blocks(self, uid: str, first: int, count: int) -> bytes:
        if self.pad.answering(uid) is None:
            return self._addressed(READ_BLOCKS, uid, None)
        data = self.pad.read(uid, first, count) if count <= MAX_BLOCKS_PER_READ else None
        if data is None:
            return build_reply(READ_BLOCKS, STATUS_REFUSED, bytes.fromhex(uid))
        entries = bytearray([count])
        for index in range(count):
            entries += bytes([first + index, 0x00])  # block number, not locked
            entries += data[index * BLOCK_SIZE:(index + 1) * BLOCK_SIZE]
        return self._addressed(READ_BLOCKS, uid, bytes(entries))

    def _write_blocks(self, uid: str, first: int, count: int, data: bytes) -> bytes:
        if self.pad.answering(uid) is None:
            return self._addressed(WRITE_BLOCKS, uid, None)
        if len(data) != count * BLOCK_SIZE or not self.pad.write(uid, first, data):
            return build_reply(WRITE_BLOCKS, STATUS_REFUSED, bytes.fromhex(uid))
        return self._addressed(WRITE_BLOCKS, uid, bytes([first + count]))

    @staticmethod
    def _addressed(command: int, uid: str, fields: bytes | None) -> bytes:
        """The reply to an addressed command: its fields, or "no tag" when `fields` is None."""
        if fields is None:
            return build_reply(command, STATUS_NO_TAG, bytes.fromhex(uid))
        return build_reply(command, STATUS_OK, bytes.fromhex(uid) + fields)

    def _ignore(self, why: str) -> bytes:
        self.ignored += 1
        log.debug("3M 810 simulator ignores %s", why)
        return b""


def _in_family(tag_afi: int, asked: int) -> bool:
    """ISO 15693's AFI match: 00 is everyone; a zero nibble asks for the whole family."""
    if asked == 0 or tag_afi == asked:
        return True
    high, low = asked & 0xF0, asked & 0x0F
    return (low == 0 and tag_afi & 0xF0 == high) or (high == 0 and tag_afi & 0x0F == low)


def start_m810_sim(pad: SimPad, link_path: str | Path, *, paced: bool = True) -> PtyDevice:
    """A started pty twin at `link_path`; paced to 19200 baud unless `paced` is False."""
    simulator = M810Simulator(pad)
    return PtyDevice(simulator.reply_to, link_path, baud=BAUD if paced else None,
                     reset=simulator.reset).start()
