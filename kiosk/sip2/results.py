"""What the ILS answered, as plain frozen dataclasses (the core reads their fields).

Every result keeps `raw` (the request and the reply as text, secrets replaced, for `--raw`),
`screen_message` (AF) and `print_line` (AG).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ScStatus:
    online: bool
    checkin_ok: bool
    checkout_ok: bool
    renewal_ok: bool
    offline_ok: bool
    supported: frozenset[str]       # message codes from BX; an empty BX means all of them
    institution: str
    library_name: str
    raw: tuple[str, ...] = ()
    screen_message: tuple[str, ...] = ()
    print_line: tuple[str, ...] = ()


@dataclass(frozen=True)
class PatronInfo:
    patron_id: str
    valid: bool | None              # BL; None when the ILS did not say
    pin_ok: bool | None             # CQ
    name: str
    blocks: tuple[str, ...]         # fields.BLOCK_KEYS that are set, in spec order
    charged: tuple[str, ...]        # AU item ids
    overdue: tuple[str, ...]        # AT
    holds_ready: tuple[str, ...]    # AS
    fines: str                      # BV, "" when none
    currency: str
    charged_count: int
    overdue_count: int
    hold_count: int
    email: str
    language: str
    raw: tuple[str, ...] = ()
    screen_message: tuple[str, ...] = ()
    print_line: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemInfo:
    item_id: str
    title: str
    circulation_status: str         # 2 digits as sent
    circulation: str                # its key: "available", "charged", ... (fields.CIRCULATION)
    due: str                        # AH as sent, "" if none
    hold_queue: int | None
    media_type: str
    permanent_location: str
    raw: tuple[str, ...] = ()
    screen_message: tuple[str, ...] = ()
    print_line: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckoutResult:
    ok: bool
    item_id: str
    title: str
    due: str                        # AH as sent
    due_date: date | None           # parsed when AH is a SIP2 or ISO date
    renewal: bool
    desensitize: bool | None        # None: the ILS said "unknown"
    magnetic: bool | None
    fee: str
    recovered: bool = False         # the reply was lost; the ILS later showed it was done
    raw: tuple[str, ...] = ()
    screen_message: tuple[str, ...] = ()
    print_line: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckinResult:
    ok: bool
    item_id: str
    title: str
    resensitize: bool | None
    magnetic: bool | None
    alert: bool
    alert_type: str                 # CV, "" if none
    sort_bin: str                   # CL
    permanent_location: str         # AQ
    recovered: bool = False
    raw: tuple[str, ...] = ()
    screen_message: tuple[str, ...] = ()
    print_line: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenewResult:
    ok: bool
    item_id: str
    title: str
    due: str
    due_date: date | None
    renewal: bool
    recovered: bool = False         # the reply was lost; the ILS later showed it was done
    raw: tuple[str, ...] = ()
    screen_message: tuple[str, ...] = ()
    print_line: tuple[str, ...] = ()
