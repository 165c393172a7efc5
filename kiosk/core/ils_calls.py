"""The core's side of the ILS boundary: one request per operation, one answer type per result.

The core asks with an `IlsCall` carrying one of the requests below; the ILS worker
(`kiosk.ils.worker`) maps each request type to a `Sip2Client` call and answers with the result
types below, built from the client's own results, in `IlsAnswered.result`. Only the fields the
core reads cross the boundary. Pure data: no SIP2 here, so the core never imports `kiosk.sip2`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# --- requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LookUpPatron:
    """Who the card's holder is and what their account holds (SIP2 patron information)."""
    patron_id: str
    pin: str | None = field(default=None, repr=False)  # never in a log line


@dataclass(frozen=True)
class LookUpHolds:
    """The patron's holds ready to collect (SIP2 patron information asking for its hold items
    list: one list per request), answered with a `PatronRecord`."""
    patron_id: str
    pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LookUpItem:
    """What the ILS knows of one item: its title, whether it is on loan, held, due when."""
    item_id: str


@dataclass(frozen=True)
class CheckOut:
    patron_id: str
    item_id: str
    pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CheckIn:
    item_id: str


@dataclass(frozen=True)
class RenewLoan:
    patron_id: str
    item_id: str
    pin: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EndPatronSession:
    """The patron left: the ILS may close what it keeps for them (answered with no result)."""
    patron_id: str


IlsRequest = (LookUpPatron | LookUpHolds | LookUpItem | CheckOut | CheckIn | RenewLoan
              | EndPatronSession)
ILS_REQUESTS: tuple[type, ...] = (LookUpPatron, LookUpHolds, LookUpItem, CheckOut, CheckIn,
                                  RenewLoan, EndPatronSession)

# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatronRecord:
    """The answer to `LookUpPatron`. `valid`, `pin_ok`: None when the ILS did not say."""
    valid: bool | None
    pin_ok: bool | None
    name: str = ""
    blocks: tuple[str, ...] = ()  # kiosk.sip2.fields.BLOCK_KEYS that are set
    charged: tuple[str, ...] = ()  # item ids on loan
    overdue: tuple[str, ...] = ()
    holds_ready: tuple[str, ...] = ()  # only when asked for (LookUpHolds): ids or titles
    fines: str = ""
    currency: str = ""
    charged_count: int = 0
    overdue_count: int = 0
    hold_count: int = 0
    message: str = ""  # the ILS's screen message (AF), e.g. why a card is blocked


@dataclass(frozen=True)
class ItemRecord:
    """The answer to `LookUpItem`; an empty title means the ILS does not know the item."""
    title: str
    circulation: str = ""  # "available", "charged", ... (kiosk.sip2.fields.CIRCULATION)
    due: str = ""  # as the ILS sent it
    hold_queue: int | None = None


@dataclass(frozen=True)
class CheckoutReply:
    ok: bool
    title: str = ""
    due: str = ""  # as the ILS sent it
    due_date: date | None = None  # parsed when it is a SIP2 or ISO date
    renewal: bool = False  # it was already this patron's, and was renewed
    desensitize: bool | None = None  # None: the ILS did not say
    screen_message: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckinReply:
    ok: bool
    title: str = ""
    resensitize: bool | None = None
    alert: bool = False  # staff must take it (a hold, another branch)
    sort_bin: str = ""
    screen_message: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenewReply:
    ok: bool
    title: str = ""
    due: str = ""
    due_date: date | None = None
    screen_message: tuple[str, ...] = ()


IlsResult = PatronRecord | ItemRecord | CheckoutReply | CheckinReply | RenewReply


def due_text(due_date: date | None, text: str) -> str:
    """YYYY-MM-DD for a parsed date, a SIP2 date (YYYYMMDDZZZZHHMMSS) or an ISO one."""
    if due_date is not None:
        return due_date.isoformat()
    text = (text or "").strip()
    digits = text[:8]
    if len(text) >= 8 and digits.isdigit():
        return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    return text
