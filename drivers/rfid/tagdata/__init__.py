"""Library tag data: which model a tag's user memory follows, and what it says.

Three models: ISO 28560-3 (the Danish fixed-length block, with a CRC), ISO 28560-2 (ISO/IEC
15962 data sets) and 3M's older layout. `decode` tells them apart by their bytes, helped by
the DSFID when the reader reports it, and never raises: bad data becomes `TagContent.error`
with no item id. `bytes_wanted` says how much memory to read after the first 32 bytes;
`encode` writes memory for the simulator and the tests.

Pure code, run on the RFID pad driver's thread and by the simulator at start.
"""

from __future__ import annotations

import logging

from drivers.rfid.crc import crc16_ccitt_false
from drivers.rfid.tagdata import iso28560_2, iso28560_3, rfid501
from drivers.rfid.tagdata.common import HARD_MAX_BYTES, USAGE_NAMES, TagContent, is_blank

__all__ = ["DSFID", "USAGE_NAMES", "TagContent", "bytes_wanted", "crc16_ccitt_false", "decode",
           "encode"]

log = logging.getLogger(__name__)

# The DSFID a tag of each model carries; 0 where the model defines none.
DSFID: dict[str, int] = {
    iso28560_3.MODEL: 0x3E,  # ISO 28560-3, 5.1
    iso28560_2.MODEL: iso28560_2.DSFID,
    rfid501.MODEL: 0x00,
}
_ENCODERS = {iso28560_3.MODEL: iso28560_3.encode, iso28560_2.MODEL: iso28560_2.encode,
             rfid501.MODEL: rfid501.encode}


def decode(memory: bytes, dsfid: int | None = None) -> TagContent:
    """What the tag says, or why it cannot be trusted. Never raises."""
    try:
        return _decode(bytes(memory), dsfid)
    except Exception:  # a decoder bug must cost one tag, not the pad driver's thread
        log.exception("tag data decoder failed")
        return TagContent(None, None, None, error="tag data could not be decoded")


def bytes_wanted(prefix: bytes) -> int:
    """How many bytes of user memory `decode` needs, given the first ones read."""
    try:
        prefix = bytes(prefix)
        return min(_bytes_wanted(prefix), HARD_MAX_BYTES)
    except Exception:
        log.exception("tag data size check failed")
        return 0


def encode(model: str, *, item_id: str, isil: str | None = None, usage: str = "circulating",
           part: int = 1, parts: int = 1) -> bytes:
    """User memory holding these data in `model`; ValueError if they do not fit it."""
    if model not in _ENCODERS:
        raise ValueError(f"unknown tag data model {model!r}: use one of {', '.join(_ENCODERS)}")
    if not isinstance(item_id, str) or not item_id:
        raise ValueError("item id must not be empty")
    return _ENCODERS[model](item_id, isil, usage, part, parts)


def _decode(memory: bytes, dsfid: int | None) -> TagContent:
    if not memory:
        return TagContent(None, None, None, error="no data read")
    if is_blank(memory):
        return TagContent(None, None, None, error="blank tag")
    if rfid501.is_blank(memory):
        return TagContent(None, None, None, model=rfid501.MODEL, error="blank tag")
    crc_ok = iso28560_3.checked_block(memory) is not None
    if dsfid == iso28560_2.DSFID and not crc_ok and iso28560_2.plausible(memory):
        return iso28560_2.decode(memory)
    if crc_ok or dsfid == DSFID[iso28560_3.MODEL]:
        return iso28560_3.decode(memory)
    if rfid501.looks_like(memory):
        return rfid501.decode(memory)
    if iso28560_2.plausible(memory) and not iso28560_3.looks_like(memory):
        return iso28560_2.decode(memory)
    if len(memory) >= iso28560_3.TRUNCATED and memory[0] >> 4 == iso28560_3.VERSION:
        return iso28560_3.decode(memory)  # a basic block whose CRC fails
    if dsfid == iso28560_2.DSFID:
        return iso28560_2.decode(memory)  # says what is wrong with the data sets
    return TagContent(None, None, None, error="unknown data model")


def _bytes_wanted(prefix: bytes) -> int:
    if len(prefix) < iso28560_3.TRUNCATED:
        return iso28560_3.TRUNCATED  # every model shows itself in the first 32 bytes
    if is_blank(prefix) or rfid501.is_blank(prefix):
        return len(prefix)
    if iso28560_3.checked_block(prefix) is not None:
        return iso28560_3.bytes_wanted(prefix)
    if rfid501.looks_like(prefix):
        return rfid501.BYTES
    wanted = iso28560_2.bytes_wanted(prefix)
    if wanted is not None and not iso28560_3.looks_like(prefix):
        return wanted
    if prefix[0] >> 4 == iso28560_3.VERSION:
        return iso28560_3.bytes_wanted(prefix)
    return len(prefix)
