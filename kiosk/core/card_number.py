"""Whether digits typed on the identify screen's keypad can be a card number of this library:
the length, prefixes and check digit the library numbers its cards with ([barcodes] in the
config, passed in `CirculationSettings`). A number that cannot be one is told so on the screen
and never sent to the ILS. Pure."""

from __future__ import annotations

from kiosk.core.outcomes import IdentifyMessage

MAX_CARD_DIGITS = 20
MIN_CARD_DIGITS = 4  # fewer is a slip of the finger whatever the library's numbers


def card_number_problem(number: str, prefixes: tuple[str, ...], length: int,
                        luhn: bool) -> IdentifyMessage | None:
    """None when `number` may be a card; else what to tell the patron."""
    if not number.isascii() or not number.isdigit():
        return IdentifyMessage.CARD_INVALID
    if (length and len(number) != length) or not MIN_CARD_DIGITS <= len(number) <= MAX_CARD_DIGITS:
        return IdentifyMessage.CARD_LENGTH if length else IdentifyMessage.CARD_INVALID
    if prefixes and not number.startswith(prefixes):
        return IdentifyMessage.CARD_INVALID
    if luhn and not luhn_ok(number):
        return IdentifyMessage.CARD_INVALID
    return None


def luhn_ok(number: str) -> bool:
    """Mod 10 over the whole number, its check digit (the last) included."""
    digits = [int(c) for c in reversed(number)]
    doubled = (d * 2 - 9 if d > 4 else d * 2 for d in digits[1::2])
    return (sum(digits[::2]) + sum(doubled)) % 10 == 0
