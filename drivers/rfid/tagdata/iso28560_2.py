"""ISO 28560-2: data elements as ISO/IEC 15962 data sets, no-directory access method.

From the first byte of user memory (the DSFID, 0x06, has its own register on ISO 15693 tags),
one data set after another until a 0x00 byte:

    precursor   bit 7 offset flag, bits 6-4 compaction code, bits 3-0 relative OID
                (OID 15 means: the next byte holds OID - 15)
    [offset]    when the flag is set: the number of pad bytes after the data, used to end a
                data set on a block boundary so it can be locked
    length      of the compacted data (a byte; bit 7 set would continue it, EBV-8)
    data        compacted as `compaction` describes

OID 1 primary item id (always first), 2 content parameter, 3 owner library (ISIL), 4 set
information, 5 type of usage; the rest are skipped. ISO 28560-2 Annex D encodes item
123456789012 as 91 00 05 1C BE 99 1A 14 and "12 parts, this is part 3" as 14 02 04 B3.
Pure code, run on the RFID pad driver's thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from drivers.rfid.tagdata import compaction as c
from drivers.rfid.tagdata.common import (
    HARD_MAX_BYTES,
    SLIX_BYTES,
    TagContent,
    check_set,
    pad_to_blocks,
    printable,
    set_info,
    usage_code,
    usage_name,
)

MODEL = "iso28560-2"
DSFID = 0x06  # access method 0 (no directory), data format 6 (ISO 28560-2)
TERMINATOR = 0x00
OFFSET_FLAG = 0x80
EXTENDED_OID = 15
OID_ITEM, OID_CONTENT, OID_ISIL, OID_SET, OID_USAGE = 1, 2, 3, 4, 5
ISIL_PATTERN = re.compile(r"^[A-Za-z0-9]{1,4}-[A-Za-z0-9/:-]+$")
ISIL_MAX = 16
MAX_PARTS = 255


class StructureError(ValueError):
    """The bytes cannot be ISO/IEC 15962 data sets."""


@dataclass(frozen=True)
class DataSet:
    oid: int
    compaction: int
    data: bytes


@dataclass
class Parsed:
    sets: list[DataSet] = field(default_factory=list)
    terminated: bool = False  # a 0x00 ended the data sets
    needed: int = 0  # when a data set runs past the memory given: at least this many bytes
    error: str | None = None  # why reading stopped early, keeping the data sets before it


def parse(memory: bytes) -> Parsed:
    parsed = Parsed()
    pos = 0
    try:
        while pos < len(memory):
            if memory[pos] == TERMINATOR:
                parsed.terminated = True
                break
            data_set, pos = _data_set_at(memory, pos)
            if data_set is None:
                parsed.needed = pos
                break
            parsed.sets.append(data_set)
    except StructureError as e:
        parsed.error = str(e)
    return parsed


def plausible(memory: bytes) -> bool:
    """Whether these bytes read as ISO 28560-2 without a DSFID to say so.

    ISO 28560-2 has no checksum, so without the DSFID only data that reads cleanly counts:
    the item id first, every element the kiosk uses readable, a proper end.
    """
    parsed = parse(memory)
    if parsed.error or parsed.needed or not parsed.sets or parsed.sets[0].oid != OID_ITEM:
        return False
    return decode(memory).error is None


def bytes_wanted(prefix: bytes) -> int | None:
    """Bytes the data sets need, or None if `prefix` does not start like ISO 28560-2."""
    parsed = parse(prefix)
    if parsed.sets:
        if parsed.sets[0].oid != OID_ITEM:
            return None
    elif not (parsed.needed and prefix[0] & 0x0F == OID_ITEM):
        return None
    if parsed.terminated or parsed.error:
        return len(prefix)  # complete, or broken in a way more bytes will not mend
    # A data set runs on, or more may follow the last one: read the rest of a usual tag.
    return min(max(parsed.needed, SLIX_BYTES), HARD_MAX_BYTES)


def decode(memory: bytes) -> TagContent:
    parsed = parse(memory)
    item_id = isil = usage = None
    part = parts = 1
    problems = []
    seen: set[int] = set()
    for data_set in parsed.sets:
        if data_set.oid in seen:
            continue  # a repeated element: the first one counts
        seen.add(data_set.oid)
        try:
            if data_set.oid == OID_ITEM:
                item_id = _item(data_set)
            elif data_set.oid == OID_ISIL:
                isil = _isil(data_set)
            elif data_set.oid == OID_SET:
                part, parts = _set(data_set)
            elif data_set.oid == OID_USAGE:
                usage = _usage(data_set)
        except ValueError as e:
            problems.append(f"{_ELEMENT_NAMES[data_set.oid]}: {e}")
    if parsed.error:
        problems.append(f"bad ISO 28560-2 data: {parsed.error}")
    if parsed.needed:
        problems.append("data runs past the end of memory")
    if OID_ITEM not in seen and not (parsed.error or parsed.needed):
        problems.insert(0, "no item id on the tag")
    return TagContent(item_id, isil, usage, part, parts, MODEL, "; ".join(problems) or None)


def encode(item_id: str, isil: str | None, usage: str, part: int, parts: int) -> bytes:
    if not printable(item_id):
        raise ValueError(f"item id must be printable text (got {item_id!r})")
    check_set(part, parts, largest=MAX_PARTS)
    out = bytearray(_data_set(OID_ITEM, *_compact_text(item_id)))
    if isil is not None:
        if len(isil) > ISIL_MAX or not ISIL_PATTERN.match(isil):
            raise ValueError(f"ISIL must be a prefix, '-' and a library code, at most "
                             f"{ISIL_MAX} characters, like CN-430281 (got {isil!r})")
        out += _data_set(OID_ISIL, c.APPLICATION, c.encode_isil(isil))
    if parts > 1:  # ISO 28560-1: number of parts, then this part, both with the same digits
        digits = f"{parts}{part:0{len(str(parts))}d}"
        out += _data_set(OID_SET, c.INTEGER, c.encode_integer(digits))
    out += _data_set(OID_USAGE, c.APPLICATION, bytes([usage_code(usage) << 4]))
    out.append(TERMINATOR)
    if len(out) > SLIX_BYTES:
        raise ValueError(f"ISO 28560-2 data of {len(out)} bytes does not fit a tag of "
                         f"{SLIX_BYTES} bytes; shorten the item id")
    return pad_to_blocks(bytes(out))


# --- data elements --------------------------------------------------------------------------

_ELEMENT_NAMES = {OID_ITEM: "item id", OID_ISIL: "owner library", OID_SET: "set information",
                  OID_USAGE: "type of usage"}
_TEXT_DECODERS = {c.INTEGER: c.decode_integer, c.NUMERIC: c.decode_numeric,
                  c.BITS5: c.decode_5bit, c.BITS6: c.decode_6bit, c.BITS7: c.decode_7bit,
                  c.OCTETS: c.decode_octets, c.UTF8: c.decode_utf8}


def _unsupported(data_set: DataSet) -> ValueError:
    code = data_set.compaction
    return c.CompactionError(f"compaction {code} ({c.NAMES[code]}) not supported")


def _item(data_set: DataSet) -> str:
    if data_set.compaction not in _TEXT_DECODERS:
        raise _unsupported(data_set)
    text = _TEXT_DECODERS[data_set.compaction](data_set.data)
    if not printable(text):
        raise c.CompactionError("not printable text")
    return text


def _isil(data_set: DataSet) -> str:
    if data_set.compaction == c.APPLICATION:
        text = c.decode_isil(data_set.data)
    elif data_set.compaction in (c.BITS5, c.BITS6, c.BITS7, c.OCTETS, c.UTF8):
        text = _TEXT_DECODERS[data_set.compaction](data_set.data)
    else:
        raise _unsupported(data_set)
    if not ISIL_PATTERN.match(text):
        raise c.CompactionError(f"{text!r} is not an ISIL")
    return text


def _set(data_set: DataSet) -> tuple[int, int]:
    if data_set.compaction not in (c.INTEGER, c.NUMERIC, c.BITS6, c.BITS7, c.OCTETS, c.UTF8):
        raise _unsupported(data_set)
    digits = _TEXT_DECODERS[data_set.compaction](data_set.data)
    if not (digits.isascii() and digits.isdigit()) or len(digits) < 2:
        raise c.CompactionError(f"{digits!r} is not a number of parts and a part number")
    digits = digits.zfill(len(digits) + len(digits) % 2)  # an integer loses a leading zero
    half = len(digits) // 2
    parts, part = int(digits[:half]), int(digits[half:])
    if max(parts, part) > MAX_PARTS:  # ISO 28560-1 allows 255; a larger claim is garbage
        raise c.CompactionError(f"{digits} claims more than {MAX_PARTS} parts")
    return set_info(parts=parts, part=part)


def _usage(data_set: DataSet) -> str:
    if data_set.compaction not in (c.APPLICATION, c.INTEGER):
        raise _unsupported(data_set)
    if len(data_set.data) != 1:
        raise c.CompactionError(f"{len(data_set.data)} bytes, expected 1")
    return usage_name(data_set.data[0] >> 4)  # main class; the low nibble refines it


# --- encoding helpers -----------------------------------------------------------------------

def _compact_text(text: str) -> tuple[int, bytes]:
    if text.isascii() and text.isdigit() and not text.startswith("0"):
        return c.INTEGER, c.encode_integer(text)
    if c.fits_6bit(text):
        return c.BITS6, c.encode_6bit(text)
    try:
        return c.OCTETS, text.encode("latin-1")
    except UnicodeEncodeError:
        return c.UTF8, text.encode("utf-8")


def _data_set(oid: int, compaction: int, data: bytes) -> bytes:
    head = bytearray([compaction << 4 | min(oid, EXTENDED_OID)])
    if oid >= EXTENDED_OID:
        head.append(oid - EXTENDED_OID)
    if len(data) > 0x7F:
        head.append(0x80 | len(data) >> 7)
    head.append(len(data) & 0x7F)
    return bytes(head) + data


def _length(memory: bytes, pos: int) -> tuple[int | None, int]:
    """An EBV-8 length at `pos` and the position after it; (None, pos) if it runs off the end."""
    value = 0
    for _ in range(3):
        if pos >= len(memory):
            return None, pos
        byte, pos = memory[pos], pos + 1
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            if value > HARD_MAX_BYTES:
                raise StructureError(f"data set of {value} bytes")
            return value, pos
    raise StructureError("length field too long")


def _data_set_at(memory: bytes, pos: int) -> tuple[DataSet | None, int]:
    """The data set starting at `pos` and the position after it (after its pad bytes).

    (None, n) when it runs past the end of `memory`: at least n bytes are needed.
    """
    precursor = memory[pos]
    oid, pos = precursor & 0x0F, pos + 1
    if oid == 0:
        raise StructureError(f"data set with object id 0 at byte {pos - 1}")
    if oid == EXTENDED_OID:
        if pos >= len(memory):
            return None, pos + 2
        oid, pos = EXTENDED_OID + memory[pos], pos + 1
    offset = 0
    if precursor & OFFSET_FLAG:
        if pos >= len(memory):
            return None, pos + 2
        offset, pos = memory[pos], pos + 1
    length, pos = _length(memory, pos)
    if length is None:
        return None, pos + 1
    end = pos + length
    if end > len(memory):
        return None, end + offset + 1
    return DataSet(oid, precursor >> 4 & 0x07, memory[pos:end]), end + offset
