"""What a patron calls a configured device: the RFID pad, the scanner, the card reader, the
receipt printer."""

from __future__ import annotations

from drivers.source import parse
from kiosk.i18n import N_

RFID_PAD = N_("RFID pad")
CARD_READER = N_("card reader")
SCANNER = N_("barcode scanner")
PRINTER = N_("receipt printer")


def device_label(source: str) -> str:
    """The message id naming the device behind `source` for patrons."""
    parsed = parse(source)
    kind = parsed.target if parsed.scheme == "sim" else parsed.scheme
    if kind in ("3m810", "trf7970a"):
        return RFID_PAD
    if kind in ("escpos", "printer"):
        return PRINTER
    if kind == "card" or parsed.options.get("role") == "card":
        return CARD_READER
    return SCANNER
