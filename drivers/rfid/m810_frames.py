"""The 3M / bibliotheca 810 (and 210) wire protocol, as pure functions: no port, no clock.

A frame is `D6`, a 2-byte big-endian length (the bytes after it, checksum included), a command
byte, its fields, and a CRC-16 (poly 0x1021, init 0xFFFF, xor-out 0xFFFF, sent big-endian) over
everything after the start byte. Replies put a status byte right after the command (00 ok,
06 no tag answered). The one exception is the version probe 3M's own software sends first: a
`D5` frame carrying `04 00 11`, answered by a `D5` frame that echoes it and adds the version.

Field layouts follow 3M's "RFID Reader Model 210 Protocol Specification" (the same protocol)
as mirrored by public code, and the traffic captured from real 810s in Biblio::RFID's 3M810.pm.
Used by `drivers.rfid.m810.M810Link` (the pad's device thread) and by the simulator's pty thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.errors import BadFrame, ReaderError, TagNotAnswering
from drivers.rfid.crc import crc16_genibus
from drivers.rfid.link import BLOCK_SIZE

START = 0xD6  # every frame but the version probe's
SETUP_START = 0xD5  # the version probe and its reply
MIN_LENGTH = 3  # a command byte and the checksum
MAX_LENGTH = 4096  # far above any real reply (255 tags x 9 bytes); beyond it the length is noise

# Command codes (the spec's names in comments).
INVENTORY = 0xFE  # Read Block UID
READER_VERSION = 0x11  # Reader Version (D6 framing; the link probes with the D5 form instead)
READ_BLOCKS = 0x02  # Read Multiblock
WRITE_BLOCKS = 0x04  # Write Multiblock
GET_AFI = 0x0A
WRITE_AFI = 0x09
# Irreversible: never built here, only recognised by the simulator so tests can prove they
# never arrive. Lock AFI, Write & Lock Block, Lock Block, Lock DSFID.
LOCKS = {0x06: "afi", 0x07: "block", 0x08: "block", 0x0E: "dsfid"}

STATUS_OK = 0x00
STATUS_NO_TAG = 0x06

PROBE_FIELDS = bytes([0x00, READER_VERSION])  # D5 frame: command 04, then 00 11
PROBE_COMMAND = 0x04
VENDOR_3M = 0x0A

# Inventory options, as 3M's own software sends them (Biblio::RFID's capture): bit 0 asks for
# the UIDs; bit 1 would put each tag's DSFID before its UID; bit 2's meaning is not public.
INVENTORY_OPTIONS = 0x05
OPTION_UIDS = 0x01
OPTION_DSFID = 0x02

MAX_BLOCKS_PER_READ = 8  # what Biblio::RFID asks an 810 for; more is not known to work
UID_BYTES = 8
_UID = re.compile(r"^[0-9A-F]{16}$")


@dataclass(frozen=True)
class Frame:
    start: int
    command: int
    body: bytes  # after the command byte, before the checksum (a reply's starts with its status)


def build_frame(command: int, fields: bytes = b"", *, start: int = START) -> bytes:
    head = (1 + len(fields) + 2).to_bytes(2, "big") + bytes([command]) + fields
    return bytes([start]) + head + crc16_genibus(head).to_bytes(2, "big")


def build_reply(command: int, status: int, fields: bytes = b"", *, start: int = START) -> bytes:
    return build_frame(command, bytes([status]) + fields, start=start)


def parse_frame(raw: bytes) -> Frame:
    """One whole frame, checked: start byte, declared length, checksum."""
    if len(raw) < 3 + MIN_LENGTH:
        raise BadFrame(f"frame too short: {raw.hex(' ')}")
    if raw[0] not in (START, SETUP_START):
        raise BadFrame(f"frame starts with {raw[0]:02X}, not D6 or D5")
    length = int.from_bytes(raw[1:3], "big")
    if length != len(raw) - 3:
        raise BadFrame(f"length field says {length}, frame has {len(raw) - 3}")
    expected, got = crc16_genibus(raw[1:-2]), int.from_bytes(raw[-2:], "big")
    if expected != got:
        raise BadFrame(f"checksum {got:04X}, expected {expected:04X}")
    return Frame(raw[0], raw[3], bytes(raw[4:-2]))


class Packetizer:
    """Cuts a byte stream into frames, whatever chunks it arrives in.

    Bytes before a start byte are thrown away and counted in `skipped`. A frame with an
    impossible length or a bad checksum raises `BadFrame`; only its start byte is dropped, so
    the next call finds a good frame that the bad "frame" might have swallowed. A start byte in
    noise that claims more bytes than ever come holds back the frames after it until the
    caller, out of time, asks for them with `salvage()`.
    """

    def __init__(self, starts: bytes = bytes([START])) -> None:
        self.starts = starts
        self.skipped = 0
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> Frame | None:
        """The next whole frame, or None until more bytes arrive."""
        buffer = self._buffer
        found = [i for i in (buffer.find(start) for start in self.starts) if i >= 0]
        if not found:
            self.skipped += len(buffer)
            buffer.clear()
            return None
        first = min(found)
        self.skipped += first
        del buffer[:first]
        if len(buffer) < 3:
            return None
        length = int.from_bytes(buffer[1:3], "big")
        if not MIN_LENGTH <= length <= MAX_LENGTH:
            del buffer[:1]
            raise BadFrame(f"impossible length {length}")
        if len(buffer) < 3 + length:
            return None
        raw = bytes(buffer[:3 + length])
        try:
            frame = parse_frame(raw)
        except BadFrame:
            del buffer[:1]
            raise
        del buffer[:3 + length]
        return frame

    def salvage(self) -> Frame | None:
        """No more bytes are coming: a start byte still waiting for the bytes it claims was
        noise. The first whole, valid frame after it, if any (what comes before it counts
        as skipped); None when there is none."""
        buffer = self._buffer
        for at in range(1, len(buffer) - 2):
            if buffer[at] not in self.starts:
                continue
            length = int.from_bytes(buffer[at + 1:at + 3], "big")
            if not MIN_LENGTH <= length <= len(buffer) - at - 3:
                continue
            try:
                frame = parse_frame(bytes(buffer[at:at + 3 + length]))
            except BadFrame:
                continue
            self.skipped += at
            del buffer[:at + 3 + length]
            return frame
        return None


# --- UIDs --------------------------------------------------------------------------------

def uid_bytes(uid: str) -> bytes:
    """The 8 UID bytes in wire order, which is the printed order ("E004..." first)."""
    text = uid.upper()
    if not _UID.match(text):
        raise ValueError(f"a UID is 16 hex digits, not {uid!r}")
    return bytes.fromhex(text)


def uid_text(raw: bytes) -> str:
    return raw.hex().upper()


# --- requests the link sends -------------------------------------------------------------

def probe_request() -> bytes:
    return build_frame(PROBE_COMMAND, PROBE_FIELDS, start=SETUP_START)


def inventory_request(afi: int = 0x00, options: int = INVENTORY_OPTIONS) -> bytes:
    """Every tag in the field (AFI 00), or only those of one application family."""
    return build_frame(INVENTORY, bytes([afi, options]))


def read_blocks_request(uid: str, first: int, count: int) -> bytes:
    if not 0 <= first <= 0xFF or not 1 <= count <= MAX_BLOCKS_PER_READ:
        raise ValueError(f"cannot ask an 810 for {count} blocks from block {first}")
    return build_frame(READ_BLOCKS, uid_bytes(uid) + bytes([first, count]))


def get_afi_request(uid: str) -> bytes:
    return build_frame(GET_AFI, uid_bytes(uid))


def write_afi_request(uid: str, afi: int) -> bytes:
    if not 0 <= afi <= 0xFF:
        raise ValueError(f"an AFI is one byte, not {afi}")
    return build_frame(WRITE_AFI, uid_bytes(uid) + bytes([afi]))


# --- replies -----------------------------------------------------------------------------

def reply_fits(frame: Frame, command: int, *, start: int = START, uid: str | None = None,
               first_block: int | None = None) -> bool:
    """Whether `frame` can be the reply to a request: its start byte and command, and for a
    command addressed to a tag, that tag's UID and the first block asked for. Any other frame
    is a late reply to an earlier request. A reply too short to tell is let through, so that
    its decoder says what is wrong with it."""
    if frame.start != start or frame.command != command:
        return False
    body = frame.body  # status, then for addressed commands the UID
    if uid is not None and len(body) >= 1 + UID_BYTES and body[1:1 + UID_BYTES] != uid_bytes(uid):
        return False
    block_at = 1 + UID_BYTES + 1  # after the block count, each entry starts with its number
    return first_block is None or body[:1] != bytes([STATUS_OK]) or len(body) <= block_at \
        or body[block_at] == first_block


def decode_version(frame: Frame) -> str:
    """`04 00 11`, then vendor (0A is 3M), major, minor and build: "5.0.2"."""
    body = frame.body
    if frame.start != SETUP_START or frame.command != PROBE_COMMAND or len(body) < 6 \
            or body[:2] != PROBE_FIELDS:
        raise BadFrame(f"not a version reply: {frame.command:02X} {body.hex(' ')}")
    vendor, major, minor, build = body[2:6]
    version = f"{major}.{minor}.{build}"
    return version if vendor == VENDOR_3M else f"{version} (vendor {vendor:02X})"


def decode_inventory(frame: Frame) -> list[str]:
    """Status, AFI asked, options echoed, tag count, then per tag [DSFID] UID."""
    status, body = _status(frame, INVENTORY)
    if status == STATUS_NO_TAG:
        return []
    if status != STATUS_OK:
        # Not a tag's answer but the reader's: retried at the next poll like a bad frame.
        raise BadFrame(f"inventory refused with reader error {status:02X}")
    if len(body) < 3:
        raise BadFrame(f"inventory reply too short: {body.hex(' ')}")
    options, count, entries = body[1], body[2], body[3:]
    if count and not options & OPTION_UIDS:
        raise BadFrame(f"inventory reply without UIDs (options {options:02X})")
    size = UID_BYTES + (1 if options & OPTION_DSFID else 0)
    if len(entries) != count * size:
        raise BadFrame(f"inventory reply has {len(entries)} bytes for {count} tags")
    uids = [uid_text(entries[i + size - UID_BYTES:i + size]) for i in range(0, len(entries), size)]
    return list(dict.fromkeys(uids))  # a tag answering twice is still one tag


def decode_blocks(frame: Frame, uid: str, first: int, count: int) -> bytes:
    """UID, block count, then per block: number, lock status, 4 data bytes."""
    _, body = _addressed(frame, READ_BLOCKS, uid, minimum=1)
    got, entries = body[0], body[1:]
    if got != count or len(entries) != count * (2 + BLOCK_SIZE):
        raise BadFrame(f"asked {uid} for {count} blocks, got {got} in {len(entries)} bytes")
    data = bytearray()
    for index in range(count):
        entry = entries[index * (2 + BLOCK_SIZE):(index + 1) * (2 + BLOCK_SIZE)]
        if entry[0] != first + index:
            raise BadFrame(f"block {entry[0]} where block {first + index} belongs")
        data += entry[2:]  # entry[1] tells whether the block is locked: nothing we act on
    return bytes(data)


def decode_afi(frame: Frame, uid: str) -> int:
    _, body = _addressed(frame, GET_AFI, uid, minimum=1)
    return body[0]


def check_write_afi(frame: Frame, uid: str) -> None:
    _addressed(frame, WRITE_AFI, uid, minimum=0)


def _status(frame: Frame, command: int) -> tuple[int, bytes]:
    if frame.start != START or frame.command != command or not frame.body:
        raise BadFrame(f"expected a {command:02X} reply, got {frame.command:02X} "
                       f"{frame.body.hex(' ')}")
    return frame.body[0], frame.body[1:]


def _addressed(frame: Frame, command: int, uid: str, minimum: int) -> tuple[int, bytes]:
    """Status and the fields after the UID of an addressed command's reply."""
    status, body = _status(frame, command)
    if status == STATUS_NO_TAG:
        raise TagNotAnswering(f"tag {uid} did not answer")
    if status != STATUS_OK:
        raise ReaderError(f"reader error {status:02X} on command {command:02X} to tag {uid}")
    if len(body) < UID_BYTES + minimum:
        raise BadFrame(f"reply to {command:02X} too short: {body.hex(' ')}")
    if body[:UID_BYTES] != uid_bytes(uid):
        raise BadFrame(f"reply for tag {uid_text(body[:UID_BYTES])}, asked {uid}")
    return status, body[UID_BYTES:]
