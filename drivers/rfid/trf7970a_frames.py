"""The TI TRF7970A evaluation board's host protocol ("RFIDGeek"): pure functions, no port or clock.

Requests are ASCII hex: `01`, the frame's length in bytes (2 bytes, least significant first,
counting everything from `01` to the end), `03 04`, a board command, its parameters, `00 00`.
The board answers in text: optionally an echo of the request, a line naming the command
("Request mode."), then results in square brackets:

- 0x14, the board's own ISO 15693 anticollision: one `[UID,RSSI]` per tag found, the UID printed
  in air order (least significant byte first). Older firmware also prints `[,RSSI]` for an empty
  slot and `[z,RSSI]` for a collision, then runs a masked sub-round for each collided slot itself.
- 0x18, one raw ISO 15693 request: `[<the tag's reply from its flags byte on, CRC removed>]`,
  `[z]` when several tags answered, `[]` when none did.

Read from TI's EVM firmware sources (host.c, iso15693.c, uart.c, anticollision.c), the captures in
digibib/rfidgeek's rfidcodes.txt and scriptotek's pyrfidgeek. ISO 15693 parts follow ISO/IEC
15693-3 and NXP's ICODE SLIX command set. Used by `drivers.rfid.trf7970a.Trf7970aLink` (the pad's
device thread) and by the simulator's pty thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.errors import BadFrame, NotSupported, ReaderError, TagNotAnswering
from drivers.rfid.link import BLOCK_SIZE

SOF = 0x01
READER_TYPE, ENTITY = 0x03, 0x04  # fixed bytes every request carries after the length
MIN_FRAME = 8  # 01 LL LL 03 04 CMD 00 00
MAX_FRAME = 0xFF  # the firmware reads only the low length byte

# Board commands (TI EVM firmware, host.c).
PING = 0xFF  # answers "TRF7970A EVM"
FIRMWARE_VERSION = 0xFE
REGISTER_WRITE = 0x10  # address, value, address, value, ...
AGC = 0xF0
AM_PM = 0xF1
INVENTORY = 0x14  # the board's 16-slot anticollision; it reads the flags (and AFI), not the mask
REQUEST = 0x18  # one ISO 15693 request, sent as given

# TRF7970A registers and the values that select ISO 15693.
CHIP_STATUS = 0x00
ISO_CONTROL = 0x01
RF_ON_5V = 0x21  # rf_on, full power, 5 V supply: what every public client writes
ISO15693_HIGH_RATE = 0x02  # 26.48 kbit/s, one subcarrier, 1 out of 4
# F0 00 and F1 FF are what TI's GUI and every public client send after the register write.
# TI's firmware sets the chip's agc_on bit only for F0 FF, so F0 00 leaves the AGC off (the
# clients call it "AGC enable"); F1 FF selects the AM input.
AGC_PARAMETER = 0x00
AM_INPUT = 0xFF

# ISO 15693 request flags.
FLAG_HIGH_RATE = 0x02
FLAG_INVENTORY = 0x04
FLAG_AFI = 0x10  # with FLAG_INVENTORY
FLAG_ONE_SLOT = 0x20  # with FLAG_INVENTORY
FLAG_ADDRESSED = 0x20  # without FLAG_INVENTORY
FLAG_OPTION = 0x40
INVENTORY_16_SLOTS = FLAG_HIGH_RATE | FLAG_INVENTORY  # 06
INVENTORY_1_SLOT = INVENTORY_16_SLOTS | FLAG_ONE_SLOT  # 26
ADDRESSED = FLAG_HIGH_RATE | FLAG_ADDRESSED  # 22
SLOTS = 16

# ISO 15693 commands, and NXP's custom ones (which carry the manufacturer code 04).
ISO_INVENTORY = 0x01
READ_SINGLE_BLOCK = 0x20
WRITE_SINGLE_BLOCK = 0x21
READ_MULTIPLE_BLOCKS = 0x23
WRITE_AFI = 0x27
GET_SYSTEM_INFO = 0x2B
NXP_SET_EAS = 0xA2
NXP_RESET_EAS = 0xA3
NXP_EAS_ALARM = 0xA5
NXP = 0x04  # manufacturer code, UID byte 1 ("E004...")
TI = 0x07  # Tag-it: its write commands need the option flag (the board then sends the EOF)
# Irreversible: refused by every builder here, only recognised by the simulator so tests can
# prove they never arrive.
LOCKS = {0x22: "block", 0x28: "afi", 0x2A: "dsfid", 0xA4: "eas", 0xB5: "password",
         0xA6: "password_protection"}

MAX_BLOCKS_PER_READ = 8  # what the public clients read at once (36 bytes in one reply)
UID_BYTES = 8
RESPONSE_ERROR = 0x01  # bit 0 of a tag's response flags
ERRORS = {0x01: "command not supported", 0x02: "command not recognised",
          0x03: "option not supported", 0x0F: "unknown error", 0x10: "block not available",
          0x11: "block already locked", 0x12: "locked, cannot be changed",
          0x13: "not programmed", 0x14: "not locked"}
SYSTEM_INFO_DSFID, SYSTEM_INFO_AFI, SYSTEM_INFO_MEMORY, SYSTEM_INFO_IC = 0x01, 0x02, 0x04, 0x08

_UID = re.compile(r"^E0[0-9A-F]{14}$")
_HEX = re.compile(r"^(?:[0-9A-F]{2})*$")
_RSSI = re.compile(r"^[0-9A-F]{2}$")
# Lines the board prints around its results (both firmware generations).
KNOWN_LINES = ("EVM", "Firmware", "Register write request", "Request mode",
               "Inventory request", "Toggle", "Reader enabled")


@dataclass(frozen=True)
class Frame:
    command: int
    payload: bytes


# --- frames ------------------------------------------------------------------------------

def build_frame(command: int, payload: bytes = b"") -> bytes:
    """The ASCII hex text the board reads."""
    length = 3 + 3 + len(payload) + 2
    if length > MAX_FRAME:
        raise ValueError(f"a frame of {length} bytes is longer than the board reads")
    raw = bytes([SOF]) + length.to_bytes(2, "little") + bytes([READER_TYPE, ENTITY, command]) \
        + payload + b"\0\0"
    return raw.hex().upper().encode("ascii")


def parse_frame(raw: bytes) -> Frame:
    """One whole frame, as bytes (already decoded from hex), checked."""
    if len(raw) < MIN_FRAME:
        raise BadFrame(f"frame too short: {raw.hex(' ')}")
    if raw[0] != SOF or raw[3:5] != bytes([READER_TYPE, ENTITY]):
        raise BadFrame(f"not a host frame: {raw.hex(' ')}")
    if int.from_bytes(raw[1:3], "little") != len(raw):
        raise BadFrame(f"length field says {int.from_bytes(raw[1:3], 'little')}, "
                       f"frame has {len(raw)}")
    if raw[-2:] != b"\0\0":
        raise BadFrame(f"frame does not end in 00 00: {raw.hex(' ')}")
    return Frame(raw[5], bytes(raw[6:-2]))


class FrameAssembler:
    """Cuts the host's hex text into frames as the firmware does: only hex digits count, a
    frame starts at "01" and its length byte says where it ends. The rest counts in `skipped`."""

    def __init__(self) -> None:
        self.skipped = 0  # characters thrown away
        self._digits = ""

    def feed(self, data: bytes) -> list[Frame]:
        text = data.decode("ascii", errors="replace").upper()
        digits = "".join(ch for ch in text if ch in "0123456789ABCDEF")
        self.skipped += len(text) - len(digits)
        self._digits += digits
        frames: list[Frame] = []
        while True:
            start = self._digits.find("01")
            if start < 0:
                keep = 1 if self._digits.endswith("0") else 0
                self.skipped += len(self._digits) - keep
                self._digits = self._digits[len(self._digits) - keep:]
                return frames
            self.skipped += start
            self._digits = self._digits[start:]
            if len(self._digits) < 4:
                return frames
            length = int(self._digits[2:4], 16)
            if length < MIN_FRAME:
                self._drop(1)
                continue
            if len(self._digits) < 2 * length:
                return frames
            try:
                frames.append(parse_frame(bytes.fromhex(self._digits[:2 * length])))
            except BadFrame:
                self._drop(1)
                continue
            self._digits = self._digits[2 * length:]

    def _drop(self, count: int) -> None:
        self.skipped += count
        self._digits = self._digits[count:]


# --- UIDs and masks ----------------------------------------------------------------------

def uid_to_air(uid: str) -> bytes:
    """The 8 UID bytes as they travel on air and in frames: least significant first."""
    text = uid.upper()
    if not _UID.match(text):
        raise ValueError(f"an ISO 15693 UID is 16 hex digits starting E0, not {uid!r}")
    return bytes.fromhex(text)[::-1]


def uid_from_air(raw: bytes) -> str:
    if len(raw) != UID_BYTES or raw[-1] != 0xE0:
        raise BadFrame(f"not an ISO 15693 UID (air order): {raw.hex(' ')}")
    return raw[::-1].hex().upper()


def manufacturer(uid: str) -> int:
    return uid_to_air(uid)[6]


def mask_bytes(value: int, bits: int) -> bytes:
    """An inventory mask: the UID's `bits` low bits, in whole bytes, least significant first."""
    if not 0 <= bits <= 64 or not 0 <= value < (1 << bits):
        raise ValueError(f"a mask of {bits} bits cannot hold {value:#x}")
    return value.to_bytes((bits + 7) // 8, "little")


def uid_matches(uid: str, value: int, bits: int) -> bool:
    return int(uid, 16) & ((1 << bits) - 1) == value


# --- requests the link sends -------------------------------------------------------------

def ping_request() -> bytes:
    return build_frame(PING)


def firmware_request() -> bytes:
    return build_frame(FIRMWARE_VERSION)


def register_write_request(pairs: tuple[tuple[int, int], ...]) -> bytes:
    return build_frame(REGISTER_WRITE, bytes(b for pair in pairs for b in pair))


def iso15693_setup_requests() -> tuple[bytes, ...]:
    """RF on at full power, ISO 15693 at the high data rate, then AGC and AM input, in order."""
    return (register_write_request(((CHIP_STATUS, RF_ON_5V), (ISO_CONTROL, ISO15693_HIGH_RATE))),
            build_frame(AGC, bytes([AGC_PARAMETER])),
            build_frame(AM_PM, bytes([AM_INPUT])))


def inventory_request(afi: int | None = None) -> bytes:
    """The board's 16-slot anticollision; AFI None asks every tag."""
    if afi is None:
        return build_frame(INVENTORY, bytes([INVENTORY_16_SLOTS, ISO_INVENTORY, 0x00]))
    return build_frame(INVENTORY, bytes([INVENTORY_16_SLOTS | FLAG_AFI, ISO_INVENTORY, afi, 0x00]))


def masked_inventory_request(value: int, bits: int) -> bytes:
    """A 1-slot inventory answered only by tags whose `bits` lowest UID bits are `value`."""
    return iso_request(INVENTORY_1_SLOT, ISO_INVENTORY, bytes([bits]) + mask_bytes(value, bits))


def read_blocks_request(uid: str, first: int, count: int) -> bytes:
    if not 0 <= first <= 0xFF or not 1 <= count <= MAX_BLOCKS_PER_READ or first + count > 0x100:
        raise ValueError(f"cannot read {count} blocks from block {first} in one request")
    # ISO 15693 counts the blocks after the first: 00 asks for one block.
    return iso_request(ADDRESSED, READ_MULTIPLE_BLOCKS,
                       uid_to_air(uid) + bytes([first, count - 1]))


def system_info_request(uid: str) -> bytes:
    return iso_request(ADDRESSED, GET_SYSTEM_INFO, uid_to_air(uid))


def write_afi_request(uid: str, afi: int) -> bytes:
    if not 0 <= afi <= 0xFF:
        raise ValueError(f"an AFI is one byte, not {afi}")
    flags = ADDRESSED | (FLAG_OPTION if manufacturer(uid) == TI else 0)
    return iso_request(flags, WRITE_AFI, uid_to_air(uid) + bytes([afi]))


def eas_request(uid: str, command: int) -> bytes:
    """NXP's Set EAS, Reset EAS or EAS Alarm, addressed to one ICODE tag."""
    if command not in (NXP_SET_EAS, NXP_RESET_EAS, NXP_EAS_ALARM):
        raise ValueError(f"{command:02X} is not an EAS command this link sends")
    if manufacturer(uid) != NXP:
        raise NotSupported(f"tag {uid} is not an NXP ICODE tag: it has no EAS bit")
    return iso_request(ADDRESSED, command, bytes([NXP]) + uid_to_air(uid))


def iso_request(flags: int, command: int, parameters: bytes) -> bytes:
    """Any ISO 15693 request through the board's request mode, except the irreversible ones."""
    if command in LOCKS:
        raise ValueError(f"refusing to build lock command {command:02X}: it cannot be undone")
    return build_frame(REQUEST, bytes([flags, command]) + parameters)


# --- what the board prints ---------------------------------------------------------------

@dataclass(frozen=True)
class Cut:
    """A bracket group that a line end or a new `[` broke off: the reply was damaged."""
    text: str


class ReplyReader:
    """Cuts the board's text into lines and bracket groups, whatever chunks it arrives in.

    Bytes that are not printable ASCII, lines that are neither the echo of `request`, blank, nor
    one the board prints, are noise: counted in `noise`, never fatal by themselves.

    A board that echoes each request (the classic firmware) marks where its reply begins: with
    `after_echo`, what came before the echo of `request` (a late reply to an earlier request,
    echo and all) is dropped and counted as noise, so that only this request's reply counts.

    Both firmware generations print a line naming the command ("Request mode.", "ISO 15693
    Inventory request.") before its results: with `results_after` (a phrase of that line),
    bracket groups before it are noise, so that a `[` in line noise is never taken for a result.
    """

    def __init__(self, request: bytes = b"", *, after_echo: bool = False,
                 results_after: str | None = None) -> None:
        self.echo = request.decode("ascii").upper()
        self.after_echo = after_echo
        self.results_after = results_after
        self._results = results_after is None  # the line that comes before results was seen
        self.lines: list[str] = []  # the board's own text lines, stripped
        self.groups: list[str | Cut] = []  # bracket contents, in order
        self.noise = 0
        self.noise_lines: list[str] = []
        self.echoed = False
        self.received = 0
        self._line: list[str] = []
        self._group: list[str] | None = None

    @property
    def open_group(self) -> bool:
        return self._group is not None

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        for byte in data:
            char = chr(byte)
            if char in "\r\n":
                self._close_group(cut=True)
                self._end_line()
            elif not 0x20 <= byte < 0x7F:
                self.noise += 1
            elif self._group is not None:
                if char == "]":
                    self._close_group(cut=False)
                elif char == "[":
                    self._close_group(cut=True)
                    self._group = []
                else:
                    self._group.append(char)
            elif char == "[":
                if (not self._results and self.results_after is not None
                        and self.results_after in "".join(self._line)):
                    self._results = True  # the naming line, its line end not sent
                self._group = []
            else:
                self._line.append(char)

    def _close_group(self, cut: bool) -> None:
        if self._group is None:
            return
        text = "".join(self._group)
        self._group = None
        if not self._results:  # before the line that names the command: noise
            self.noise += len(text) + 1 + (not cut)
            self.noise_lines.append(f"[{text}" + ("" if cut else "]"))
            return
        self.groups.append(Cut(text) if cut else text)

    def _end_line(self) -> None:
        text = "".join(self._line).strip()
        self._line.clear()
        if not text:
            return
        if self.echo and text.removeprefix("Reader enabled.").upper() == self.echo:
            self.echoed = True  # older firmware echoes every request
            if self.after_echo:  # what came before belongs to an earlier request
                self._results = self.results_after is None
                self.noise += sum(len(line) for line in self.lines) \
                    + sum(len(group if isinstance(group, str) else group.text) + 2
                          for group in self.groups)
                self.lines.clear()
                self.groups.clear()
                self.noise_lines.clear()
        elif any(known in text for known in KNOWN_LINES):
            self.lines.append(text)
            if self.results_after is not None and self.results_after in text:
                self._results = True
        else:
            self.noise += len(text)
            self.noise_lines.append(text)

    def line_with(self, phrase: str) -> str | None:
        return next((line for line in self.lines if phrase in line), None)


@dataclass(frozen=True)
class InventoryResult:
    uids: tuple[str, ...]
    slots: int  # slot results printed: tags, empty slots and collisions
    collisions: int

    @property
    def resolved(self) -> bool:
        """Whether the board sorted out every collision itself. Older firmware prints a 16-slot
        sub-round for each collided slot, so then there are 16 slot lines per collision more."""
        return self.collisions == 0 or self.slots == SLOTS * (1 + self.collisions)


def decode_inventory(groups: list[str | Cut]) -> InventoryResult:
    uids: list[str] = []
    slots = collisions = 0
    for group in groups:
        if isinstance(group, Cut):
            raise BadFrame(f"inventory line cut off: [{group.text}")
        fields = group.split(",")
        second_ok = len(fields) == 1 or _RSSI.match(fields[1]) or fields[1] == "z"
        if len(fields) > 2 or not second_ok:
            raise BadFrame(f"not an inventory result: [{group}]")
        slots += 1
        if "z" in fields:
            collisions += 1
        elif fields[0]:
            if not re.match(r"^[0-9A-F]{16}$", fields[0]):
                raise BadFrame(f"not a UID: [{group}]")
            uids.append(uid_from_air(bytes.fromhex(fields[0])))
    return InventoryResult(tuple(dict.fromkeys(uids)), slots, collisions)


@dataclass(frozen=True)
class TagReply:
    """What the board printed for one request: the tag's bytes, silence (None), or a collision."""
    data: bytes | None
    collision: bool = False


def decode_tag_reply(group: str | Cut) -> TagReply:
    if isinstance(group, Cut):
        raise BadFrame(f"reply cut off: [{group.text}")
    if group == "z":
        return TagReply(None, collision=True)
    if not _HEX.match(group):
        raise BadFrame(f"not a tag reply: [{group}]")
    return TagReply(bytes.fromhex(group) if group else None)


def tag_body(reply: TagReply, uid: str, command: int) -> bytes:
    """What follows the response flags in an addressed command's reply, or why nothing does."""
    if reply.collision:
        raise BadFrame(f"collision in the reply to {command:02X} addressed to {uid}")
    if reply.data is None:
        raise TagNotAnswering(f"tag {uid} did not answer command {command:02X}")
    if not reply.data:
        raise BadFrame(f"empty reply to {command:02X} from {uid}")
    if reply.data[0] & RESPONSE_ERROR:
        code = reply.data[1] if len(reply.data) > 1 else None
        meaning = "no error code" if code is None else \
            f"error {code:02X}: {ERRORS.get(code, 'custom error')}"
        raise ReaderError(f"tag {uid} refused command {command:02X} ({meaning})")
    return reply.data[1:]


def decode_found(reply: TagReply, value: int, bits: int) -> str:
    """The UID in a masked 1-slot inventory's reply: flags, DSFID, UID in air order."""
    data = reply.data or b""
    if len(data) != 2 + UID_BYTES or data[0] & RESPONSE_ERROR:
        raise BadFrame(f"not an inventory reply: {data.hex(' ')}")
    uid = uid_from_air(data[2:])
    if not uid_matches(uid, value, bits):
        raise BadFrame(f"tag {uid} answered an inventory for mask {value:#x}/{bits}")
    return uid


def decode_blocks(body: bytes, uid: str, count: int) -> bytes:
    if len(body) != count * BLOCK_SIZE:
        raise BadFrame(f"asked {uid} for {count} blocks, got {len(body)} bytes")
    return body


@dataclass(frozen=True)
class SystemInfo:
    uid: str
    dsfid: int | None
    afi: int | None
    blocks: int | None
    block_size: int | None
    ic_reference: int | None


def decode_system_info(body: bytes, uid: str) -> SystemInfo:
    """Info flags, UID (air order), then DSFID, AFI, memory size and IC reference when flagged."""
    if len(body) < 1 + UID_BYTES:
        raise BadFrame(f"system information too short: {body.hex(' ')}")
    info, rest = body[0], body[1 + UID_BYTES:]
    if uid_from_air(body[1:1 + UID_BYTES]) != uid.upper():
        raise BadFrame(f"system information of {uid_from_air(body[1:1 + UID_BYTES])}, asked {uid}")
    sizes = ((SYSTEM_INFO_DSFID, 1), (SYSTEM_INFO_AFI, 1), (SYSTEM_INFO_MEMORY, 2),
             (SYSTEM_INFO_IC, 1))
    if len(rest) != sum(size for bit, size in sizes if info & bit):
        raise BadFrame(f"system information flags {info:02X} do not fit {rest.hex(' ')}")
    fields: dict[int, bytes] = {}
    for bit, size in sizes:
        if info & bit:
            fields[bit], rest = rest[:size], rest[size:]
    memory = fields.get(SYSTEM_INFO_MEMORY)
    return SystemInfo(
        uid.upper(),
        dsfid=fields[SYSTEM_INFO_DSFID][0] if SYSTEM_INFO_DSFID in fields else None,
        afi=fields[SYSTEM_INFO_AFI][0] if SYSTEM_INFO_AFI in fields else None,
        blocks=memory[0] + 1 if memory else None,
        block_size=(memory[1] & 0x1F) + 1 if memory else None,
        ic_reference=fields[SYSTEM_INFO_IC][0] if SYSTEM_INFO_IC in fields else None)
