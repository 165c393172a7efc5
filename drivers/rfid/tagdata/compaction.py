"""ISO/IEC 15962 compaction schemes, as ISO 28560-2 uses them: bytes to text and back.

Compaction codes (bits 6-4 of a data set's precursor): 0 application-defined, 1 integer,
2 numeric, 3 5-bit, 4 6-bit, 5 7-bit, 6 octet string (ISO 8859-1), 7 UTF-8. The owner library
(ISIL) has its own application-defined scheme: 5-bit upper and lower case sets and a 4-bit
digit set, switched by latch and shift codes; ISO 28560-2 Annex C encodes DE-Heu1 as
21 40 8E 16 BF 1F, padding the last byte with 1 bits.

Every decoder raises `CompactionError` on data it cannot read; it never guesses.
Pure code, run on the RFID pad driver's thread.
"""

from __future__ import annotations

APPLICATION, INTEGER, NUMERIC, BITS5, BITS6, BITS7, OCTETS, UTF8 = range(8)
NAMES = {APPLICATION: "application-defined", INTEGER: "integer", NUMERIC: "numeric",
         BITS5: "5-bit", BITS6: "6-bit", BITS7: "7-bit", OCTETS: "octet string", UTF8: "UTF-8"}

EOT6 = 0b100001  # end of transmission in the 6-bit set; its first bits pad the last byte


class CompactionError(ValueError):
    """Compacted data that does not decode."""


# --- integer, numeric, octets, UTF-8 ---------------------------------------------------------

def decode_integer(data: bytes) -> str:
    if not data:
        raise CompactionError("empty integer")
    return str(int.from_bytes(data, "big"))


def encode_integer(digits: str) -> bytes:
    value = int(digits)
    return value.to_bytes(max(1, -(-value.bit_length() // 8)), "big")


def decode_numeric(data: bytes) -> str:
    """Decimal digits, one per 4 bits, the last nibble 0xF when the count is odd.

    Any other nibble above 9 makes the data unreadable: a binary number read as digits would
    almost always show one, so a writer using another layout gets an error, not a wrong id.
    """
    nibbles = [n for byte in data for n in (byte >> 4, byte & 0x0F)]
    if nibbles and nibbles[-1] == 0x0F:
        nibbles.pop()
    if not nibbles or any(n > 9 for n in nibbles):
        raise CompactionError("numeric data is not decimal digits")
    return "".join(map(str, nibbles))


def decode_octets(data: bytes) -> str:
    return data.decode("latin-1")


def decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CompactionError("not valid UTF-8") from None


# --- 5-, 6- and 7-bit codes -----------------------------------------------------------------

def _codes(data: bytes, width: int) -> list[int]:
    bits = int.from_bytes(data, "big")
    total = len(data) * 8
    return [(bits >> (total - width * (i + 1))) & ((1 << width) - 1)
            for i in range(total // width)]


def _drop_pad_code(codes: list[int], width: int, total_bits: int, pads: set[int]) -> list[int]:
    """Remove a last code that lies within the final 7 bits and holds a padding pattern.

    Padding is at most 7 bits, so only such a code can be padding; the patterns given are
    ones no writer would use as data in that scheme.
    """
    if codes and width * (len(codes) - 1) >= total_bits - 7 and codes[-1] in pads:
        return codes[:-1]
    return codes


def decode_5bit(data: bytes) -> str:
    """ISO/IEC 646 characters 0x40-0x5F by their low 5 bits (capital letters)."""
    codes = _drop_pad_code(_codes(data, 5), 5, len(data) * 8, {0, 0b11111})
    return "".join(chr(0x40 | code) for code in codes)


def decode_6bit(data: bytes) -> str:
    """ISO/IEC 646 characters 0x20-0x5F: capitals, digits, space and punctuation."""
    text = []
    for code in _codes(data, 6):  # padding is the start of EOT, so it never reads as a code
        if code == EOT6:
            break
        char = chr(0x40 | code) if code < 0x20 else chr(code)
        if "!" <= char <= "'":  # the 6-bit set uses these codes for controls
            raise CompactionError(f"6-bit code {code} is not a character")
        text.append(char)
    return "".join(text)


def encode_6bit(text: str) -> bytes:
    bits = "".join(format(ord(char) & 0x3F, "06b") for char in text)
    bits += format(EOT6, "06b")[:-len(bits) % 8]
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def fits_6bit(text: str) -> bool:
    return all(" " <= char <= "_" and not "!" <= char <= "'" for char in text)


def decode_7bit(data: bytes) -> str:
    codes = _drop_pad_code(_codes(data, 7), 7, len(data) * 8, {0, 0x7F})
    text = "".join(map(chr, codes))
    if not text.isprintable():
        raise CompactionError("7-bit data holds control characters")
    return text


# --- the ISIL scheme ------------------------------------------------------------------------

UPPER, LOWER, DIGITS = "upper", "lower", "digits"
_SETS = {  # characters by code; the codes after them switch sets
    UPPER: "-ABCDEFGHIJKLMNOPQRSTUVWXYZ:",
    LOWER: "-abcdefghijklmnopqrstuvwxyz/",
    DIGITS: "0123456789-:",
}
_WIDTH = {UPPER: 5, LOWER: 5, DIGITS: 4}
_SWITCHES = {  # code -> (set, latch?) for each set
    UPPER: {28: (LOWER, True), 29: (LOWER, False), 30: (DIGITS, True), 31: (DIGITS, False)},
    LOWER: {28: (UPPER, True), 29: (UPPER, False), 30: (DIGITS, True), 31: (DIGITS, False)},
    DIGITS: {12: (UPPER, True), 13: (UPPER, False), 14: (LOWER, True), 15: (LOWER, False)},
}


def decode_isil(data: bytes) -> str:
    bits = "".join(format(byte, "08b") for byte in data)
    latched, current, pos, text = UPPER, UPPER, 0, []
    while pos + _WIDTH[current] <= len(bits):
        code = int(bits[pos:pos + _WIDTH[current]], 2)
        pos += _WIDTH[current]
        switch = _SWITCHES[current].get(code)
        if switch is None:
            text.append(_SETS[current][code])
            current = latched
        elif switch[1]:
            latched = current = switch[0]
        else:
            current = switch[0]  # for the next character only
    return "".join(text)


def encode_isil(text: str) -> bytes:
    current, bits = UPPER, []
    for i, char in enumerate(text):
        if char in _SETS[current]:
            bits.append((_SETS[current].index(char), _WIDTH[current]))
            continue
        target = next((name for name in (UPPER, LOWER, DIGITS) if char in _SETS[name]), None)
        if target is None:
            raise ValueError(f"ISIL {text!r}: {char!r} is not an ISIL character")
        following = text[i + 1:i + 2]
        latch = bool(following) and following in _SETS[target]
        code = next(code for code, (name, is_latch) in _SWITCHES[current].items()
                    if name == target and is_latch == latch)
        bits.append((code, _WIDTH[current]))
        bits.append((_SETS[target].index(char), _WIDTH[target]))
        if latch:
            current = target
    text_bits = "".join(format(code, f"0{width}b") for code, width in bits)
    text_bits += "1" * (-len(text_bits) % 8)
    return int(text_bits, 2).to_bytes(len(text_bits) // 8, "big")
