"""3M's tag layout from before ISO 28560 ("RFID 501"), as 3M and bibliotheca 810 systems wrote it.

No standard describes it; this follows the public Perl module Biblio::RFID::RFID501 and its
tests, which read tags in the field:

    byte 0      0x04
    byte 1      high nibble: this part's number, low nibble: number of parts
    byte 2      0x00
    byte 3      item type (1 book, 6 CD, 9 book with CD, ...): not needed here
    bytes 4-19  item barcode, ASCII, NUL-padded
    bytes 20-23 branch (12 bits) and library (20 bits) numbers: not an ISIL
    bytes 24-27 a custom number; bytes 28-31 zero

There is no checksum and no type of usage. A factory-fresh 3M tag holds 0x55 in its first
24 bytes. Pure code, run on the RFID pad driver's thread.
"""

from __future__ import annotations

from dataclasses import replace

from drivers.rfid.tagdata.common import TagContent, check_set, set_info

MODEL = "3m"
BYTES = 32
MARKER = 0x04
BARCODE = slice(4, 20)
BARCODE_BYTES = 16
BLANK = b"\x55" * 24


def is_blank(memory: bytes) -> bool:
    return memory[:len(BLANK)] == BLANK


def looks_like(memory: bytes) -> bool:
    return len(memory) >= BARCODE.stop and memory[0] == MARKER and memory[2] == 0


def decode(memory: bytes) -> TagContent:
    part, parts = set_info(parts=memory[1] & 0x0F, part=memory[1] >> 4)
    found = TagContent(None, isil=None, usage=None, part=part, parts=parts, model=MODEL)
    raw, _, padding = memory[BARCODE].partition(b"\0")
    if not raw:
        return replace(found, error="no item id on the tag")
    # Without a checksum, the NUL padding is the only sign the field was written whole.
    if padding.strip(b"\0") or not all(0x20 < byte < 0x7F for byte in raw):
        return replace(found, error="item id is not text")
    return replace(found, item_id=raw.decode("ascii"))


def encode(item_id: str, isil: str | None, usage: str, part: int, parts: int) -> bytes:
    if isil is not None:
        raise ValueError("the 3M format has no ISIL field: leave isil out")
    if usage != "circulating":
        raise ValueError("the 3M format has no type of usage field: leave usage out")
    if not (item_id.isascii() and item_id.isprintable() and " " not in item_id
            and 1 <= len(item_id) <= BARCODE_BYTES):
        raise ValueError(f"3M item id must be 1 to {BARCODE_BYTES} ASCII characters without "
                         f"spaces (got {item_id!r})")
    check_set(part, parts, largest=15)
    memory = bytearray(BYTES)
    memory[0] = MARKER
    memory[1] = part << 4 | parts
    memory[BARCODE.start:BARCODE.start + len(item_id)] = item_id.encode("ascii")
    return bytes(memory)
