"""The CRC-16 both library RFID formats use: the tag data model and the 3M reader's frames."""

from __future__ import annotations


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xor-out."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        crc &= 0xFFFF
    return crc


def crc16_genibus(data: bytes) -> int:
    """CRC-16/GENIBUS, the 3M 810's frame check: the same, inverted at the end."""
    return crc16_ccitt_false(data) ^ 0xFFFF
