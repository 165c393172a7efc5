"""ISO 28560-3 ("the Danish data model"): the fixed-length basic block at the start of a tag.

    byte 0      content parameter (high nibble, 1) and type of usage (low nibble)
    bytes 1-2   set information: number of parts, then this part's number (ISO 28560-1, 4.2.4)
    bytes 3-18  primary item identifier, NUL-padded
    bytes 19-20 CRC-16/CCITT-FALSE, low byte first
    bytes 21-33 owner institution (ISIL) without its hyphen: "DK718500" is DK-718500

On a 32-byte tag the block is truncated after byte 31 and the CRC is computed as if bytes
32-33 were zero. The CRC covers bytes 0-18 and 21-33. ISO 28560-3 Annex B example 1 (ISIL
DK-718500, item 1000000056, CRC bytes 98 A4) is the published check. Extension blocks may
follow at byte 34; the kiosk needs none of their data elements, so they are not read.

Two vendor variants are accepted because the CRC still proves the data: readers or writers
that store each 4-byte block in reverse order (libdanrfid calls them "reverted blocks"), and
tags with the two nibbles of byte 0 swapped (0x81 for a patron card, seen on bibliotheca and
Russian tags). Pure code, run on the RFID pad driver's thread.
"""

from __future__ import annotations

import re
from dataclasses import replace

from drivers.rfid.crc import crc16_ccitt_false
from drivers.rfid.tagdata.common import (
    BLOCK_SIZE,
    TagContent,
    check_set,
    pad_to_blocks,
    printable,
    set_info,
    usage_code,
    usage_name,
)

MODEL = "iso28560-3"
TRUNCATED = 32  # the basic block of a 32-byte tag
BASIC_BLOCK = 34
ITEM_BYTES = 16
LIBRARY_BYTES = {TRUNCATED: 9, BASIC_BLOCK: 11}  # ISIL after the country code
VERSION = 1
IN_EXTENSION_BLOCK = 0x01  # byte 3 when the item id is too long for the basic block
ISIL_PATTERN = re.compile(r"^([A-Z]{2})-([A-Za-z0-9/:-]{1,11})$")


def block_crc(block: bytes) -> int:
    """The CRC a basic block should carry (a truncated block is extended with two zeros)."""
    block = block[:BASIC_BLOCK].ljust(BASIC_BLOCK, b"\0")
    return crc16_ccitt_false(block[:19] + block[21:])


def checked_block(memory: bytes) -> bytes | None:
    """The 34-byte basic block whose CRC is right, trying the layouts writers use; or None."""
    for data in (memory, _blocks_reversed(memory)):
        if len(data) < TRUNCATED:
            continue
        candidates = [data[:TRUNCATED] + b"\0\0"]
        if len(data) >= BASIC_BLOCK and data[TRUNCATED:BASIC_BLOCK] != b"\0\0":
            candidates.insert(0, data[:BASIC_BLOCK])
        for block in candidates:
            if block_crc(block) == block[19] | block[20] << 8:
                return block
    return None


def looks_like(memory: bytes) -> bool:
    """Whether this is a damaged basic block rather than something else (checked without CRC)."""
    if len(memory) < TRUNCATED or memory[0] >> 4 != VERSION:
        return False
    item = memory[3:19].rstrip(b"\0")
    country = memory[21:23]
    return (bool(item) and b"\0" not in item
            and all(0x20 <= byte < 0x7F for byte in item)
            and (country == b"\0\0" or country.isalpha()))


def bytes_wanted(prefix: bytes) -> int:
    if len(prefix) < TRUNCATED:
        return TRUNCATED
    if checked_block(prefix[:TRUNCATED]) is not None:
        return TRUNCATED
    # A library code of 10 or 11 characters runs on into bytes 32-33, and the CRC covers them.
    return BASIC_BLOCK if prefix[TRUNCATED - 1] else TRUNCATED


def decode(memory: bytes) -> TagContent:
    block = checked_block(memory)
    if block is None:
        return TagContent(None, None, None, model=MODEL, error="CRC mismatch")
    version, usage = block[0] >> 4, block[0] & 0x0F
    if version != VERSION:
        if usage != VERSION:
            return TagContent(None, None, None, model=MODEL,
                              error=f"unsupported ISO 28560-3 version {version}")
        version, usage = usage, version  # the nibbles were written the other way round
    part, parts = set_info(parts=block[1], part=block[2])
    isil = _isil(block[21:])
    found = TagContent(None, isil, usage_name(usage), part, parts, model=MODEL)
    if block[3] == IN_EXTENSION_BLOCK:
        return replace(found, error="item id is in an extension block (not supported)")
    raw = block[3:19].split(b"\0", 1)[0]
    if not raw:
        return replace(found, error="no item id on the tag")
    item_id = _text(raw)
    if item_id is None:
        return replace(found, error="item id is not text")
    return replace(found, item_id=item_id)


def encode(item_id: str, isil: str | None, usage: str, part: int, parts: int) -> bytes:
    raw_item = item_id.encode("utf-8")
    if not printable(item_id) or len(raw_item) > ITEM_BYTES:
        raise ValueError(f"ISO 28560-3 item id must be 1 to {ITEM_BYTES} printable bytes "
                         f"(got {item_id!r})")
    check_set(part, parts, largest=255)
    isil_field = _isil_field(isil)
    size = TRUNCATED if len(isil_field) <= 2 + LIBRARY_BYTES[TRUNCATED] else BASIC_BLOCK
    block = bytearray(BASIC_BLOCK)
    block[0] = VERSION << 4 | usage_code(usage)
    block[1], block[2] = parts, part
    block[3:3 + len(raw_item)] = raw_item
    block[21:21 + len(isil_field)] = isil_field
    crc = block_crc(bytes(block))
    block[19], block[20] = crc & 0xFF, crc >> 8
    return pad_to_blocks(bytes(block[:size]))


def _isil_field(isil: str | None) -> bytes:
    if isil is None:
        return b""
    match = ISIL_PATTERN.match(isil)
    if match is None:
        raise ValueError(f"ISO 28560-3 ISIL must be a two-letter country code, '-' and at most "
                         f"{LIBRARY_BYTES[BASIC_BLOCK]} characters, like CN-430281 "
                         f"(got {isil!r})")
    return (match.group(1) + match.group(2)).encode("ascii")


def _isil(field: bytes) -> str | None:
    text = _text(field.split(b"\0", 1)[0])
    if not text:
        return None
    country, library = text[:2], text[2:]
    if not (country.isascii() and country.isalpha() and country.isupper()):
        return text  # not a country prefix: shown as stored
    # Some writers keep the hyphen, or repeat the country ("DE" + "DE-705").
    library = library.removeprefix("-")
    if library.startswith(country + "-"):
        library = library[3:]
    return f"{country}-{library}" if library else None


def _text(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if printable(text) else None


def _blocks_reversed(memory: bytes) -> bytes:
    whole = len(memory) - len(memory) % BLOCK_SIZE
    return b"".join(memory[i:i + BLOCK_SIZE][::-1] for i in range(0, whole, BLOCK_SIZE))
