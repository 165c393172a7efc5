"""A receipt as data: what a borrowing, return or renewal did, line by line.

The core makes a `Receipt` when a patron finishes (`kiosk.core.finishing`); the runtime and the
receipt screen render it (`kiosk.receipts`: narrow text for the printer, QR text for the screen),
so the core needs no translations or files. Pure, frozen data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

KINDS = ("borrow", "return", "renew")
OUTCOMES = ("borrowed", "returned", "renewed", "refused", "offline", "staff")


@dataclass(frozen=True)
class ReceiptLine:
    title: str
    item_id: str
    due: dt.date | str | None  # a date, or the ILS's text when it sent no parsable date
    outcome: str  # one of OUTCOMES
    reason: str = ""  # a key of REASONS, or the ILS's words; for refused and staff


@dataclass(frozen=True)
class Receipt:
    kind: str  # one of KINDS
    library_name_zh: str
    library_name_en: str
    kiosk_id: str
    when: dt.datetime  # local time
    patron_masked: str  # "**********4566", or "" for returns
    lines: tuple[ReceiptLine, ...]
    footer: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"receipt kind must be one of {', '.join(KINDS)} (got {self.kind!r})")
        for line in self.lines:
            if line.outcome not in OUTCOMES:
                raise ValueError(f"receipt outcome must be one of {', '.join(OUTCOMES)} "
                                 f"(got {line.outcome!r})")
