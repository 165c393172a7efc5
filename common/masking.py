"""Masking of patron and card numbers, for log lines and for the screen. Pure, any thread."""

from __future__ import annotations

import re

# Card and patron numbers are long runs of digits (a library card is 14 digits, a phone e-card
# longer); masking every run of 6 or more keeps them out of logs without knowing the format.
_NUMBER_RUN = re.compile(r"\d{6,}")
KEEP = 4


def mask(number: str) -> str:
    """`23520001234567` -> `**********4567`: enough for staff to match a card, not to copy it."""
    if len(number) <= KEEP:
        return "*" * len(number)
    return "*" * (len(number) - KEEP) + number[-KEEP:]


def mask_numbers_in(text: str) -> str:
    """Mask every long run of digits in free text."""
    return _NUMBER_RUN.sub(lambda m: mask(m.group()), text)
