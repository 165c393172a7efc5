"""What every tag data model shares: the decoded content, usage names, the CRC, size limits.

Pure code, run on the RFID pad driver's thread (decoding) and by the simulator at start
(encoding).
"""

from __future__ import annotations

from dataclasses import dataclass

BLOCK_SIZE = 4  # bytes per block on ISO 15693 library tags
SLIX_BYTES = 112  # user memory of an NXP ICODE SLIX (28 blocks): the usual library tag
HARD_MAX_BYTES = 2048  # no ISO 15693 tag has more; a length field saying so is garbage

# ISO 28560 type of usage: the main class, a nibble in both -2 and -3 (-2 adds a sub-class).
USAGE_NAMES: dict[int, str] = {
    0: "acquisition",
    1: "circulating",
    2: "not_for_circulation",
    7: "discarded",
    8: "patron_card",
}
_USAGE_CODES = {name: code for code, name in USAGE_NAMES.items()}


@dataclass(frozen=True)
class TagContent:
    item_id: str | None
    isil: str | None
    usage: str | None
    part: int = 1
    parts: int = 1
    model: str = "unknown"  # iso28560-3, iso28560-2, 3m or unknown
    error: str | None = None  # why the data cannot be trusted, in a few English words


def usage_name(code: int) -> str:
    return USAGE_NAMES.get(code, f"other:{code}")


def usage_code(name: str) -> int:
    """The nibble for a usage name, or for "other:N"; ValueError for anything else."""
    if name in _USAGE_CODES:
        return _USAGE_CODES[name]
    prefix, _, number = name.partition(":")
    if prefix == "other" and number.isdigit() and 0 <= int(number) <= 15:
        return int(number)
    raise ValueError(f"unknown usage {name!r}: use one of {', '.join(_USAGE_CODES)} "
                     f"or other:N with N from 0 to 15")


def set_info(parts: int, part: int) -> tuple[int, int]:
    """(part, parts) from what a tag claims, made consistent.

    Writers disagree on which of the two numbers comes first, but a part number is never
    larger than the number of parts: when it is, the writer used the other order, and
    swapping gives the right answer in every case. 0 means "not set": a single part.
    """
    parts, part = max(parts, 1), max(part, 1)
    if part > parts:
        part, parts = parts, part
    return part, parts


def check_set(part: int, parts: int, largest: int) -> None:
    if not 1 <= parts <= largest:
        raise ValueError(f"parts must be between 1 and {largest} (got {parts})")
    if not 1 <= part <= parts:
        raise ValueError(f"part must be between 1 and parts={parts} (got {part})")


def is_blank(memory: bytes) -> bool:
    return bool(memory) and (memory.count(0) == len(memory) or memory.count(0xFF) == len(memory))


def printable(text: str) -> bool:
    return bool(text) and text.isprintable()


def pad_to_blocks(data: bytes) -> bytes:
    return data + bytes(-len(data) % BLOCK_SIZE)
