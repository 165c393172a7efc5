"""SIP2 replies read into the kiosk's results: pure. Unknown fields are ignored; a flag
that is neither Y nor N reads as "the ILS did not say"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from kiosk.sip2.codec import Message, parse_due
from kiosk.sip2.fields import CIRCULATION, block_keys, supported_codes
from kiosk.sip2.results import (
    CheckinResult,
    CheckoutResult,
    ItemInfo,
    PatronInfo,
    RenewResult,
    ScStatus,
)


def _yes(value: str) -> bool:
    return value == "Y"


def _yes_no(value: str) -> bool | None:
    return {"Y": True, "N": False}.get(value)


def _number(value: str) -> int | None:
    """ASCII digits as a number, else None: str.isdigit() also takes '²' and '٣', which int()
    refuses or reads as another script's digits."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _count(value: str) -> int:
    number = _number(value)
    return 0 if number is None else number


def _fines(amount: str) -> str:
    """BV as sent, "" when absent or zero (many servers send 0.00 for "no fines")."""
    amount = amount.strip()
    try:
        return "" if not amount or Decimal(amount) == 0 else amount
    except InvalidOperation:
        return amount


def _texts(reply: Message, raw: tuple[str, ...]) -> dict:
    return {"raw": raw, "screen_message": reply.all("AF"), "print_line": reply.all("AG")}


def sc_status(reply: Message, raw: tuple[str, ...] = ()) -> ScStatus:
    return ScStatus(
        online=_yes(reply.get("online")), checkin_ok=_yes(reply.get("checkin_ok")),
        checkout_ok=_yes(reply.get("checkout_ok")),
        renewal_ok=_yes(reply.get("renewal_policy")), offline_ok=_yes(reply.get("offline_ok")),
        supported=supported_codes(reply.first("BX")), institution=reply.first("AO"),
        library_name=reply.first("AM"), **_texts(reply, raw))


def patron(reply: Message, patron_id: str, raw: tuple[str, ...] = ()) -> PatronInfo:
    """From 64 (patron information) or 24 (patron status: no lists, no counts)."""
    full = reply.code == "64"
    return PatronInfo(
        patron_id=reply.first("AA", patron_id), valid=_yes_no(reply.first("BL")),
        pin_ok=_yes_no(reply.first("CQ")), name=reply.first("AE"),
        blocks=block_keys(reply.get("patron_status")), charged=reply.all("AU"),
        overdue=reply.all("AT"), holds_ready=reply.all("AS"), fines=_fines(reply.first("BV")),
        currency=reply.first("BH"),
        charged_count=_count(reply.get("charged_count")) if full else 0,
        overdue_count=_count(reply.get("overdue_count")) if full else 0,
        hold_count=_count(reply.get("hold_count")) if full else 0,
        email=reply.first("BE"), language=reply.get("language"), **_texts(reply, raw))


def item(reply: Message, item_id: str, raw: tuple[str, ...] = ()) -> ItemInfo:
    status = reply.get("circulation_status")
    return ItemInfo(
        item_id=reply.first("AB", item_id), title=reply.first("AJ"), circulation_status=status,
        circulation=CIRCULATION.get(status, "other"), due=reply.first("AH"),
        hold_queue=_number(reply.first("CF")), media_type=reply.first("CK"),
        permanent_location=reply.first("AQ"), **_texts(reply, raw))


def checkout(reply: Message, item_id: str, raw: tuple[str, ...] = ()) -> CheckoutResult:
    due = reply.first("AH")
    return CheckoutResult(
        ok=reply.get("ok") == "1", item_id=reply.first("AB", item_id), title=reply.first("AJ"),
        due=due, due_date=parse_due(due), renewal=_yes(reply.get("renewal_ok")),
        desensitize=_yes_no(reply.get("desensitize")),
        magnetic=_yes_no(reply.get("magnetic_media")), fee=_fines(reply.first("BV")),
        **_texts(reply, raw))


def checkin(reply: Message, item_id: str, raw: tuple[str, ...] = ()) -> CheckinResult:
    return CheckinResult(
        ok=reply.get("ok") == "1", item_id=reply.first("AB", item_id), title=reply.first("AJ"),
        resensitize=_yes_no(reply.get("resensitize")),
        magnetic=_yes_no(reply.get("magnetic_media")), alert=_yes(reply.get("alert")),
        alert_type=reply.first("CV"), sort_bin=reply.first("CL"),
        permanent_location=reply.first("AQ"), **_texts(reply, raw))


def renew(reply: Message, item_id: str, raw: tuple[str, ...] = ()) -> RenewResult:
    due = reply.first("AH")
    return RenewResult(
        ok=reply.get("ok") == "1", item_id=reply.first("AB", item_id), title=reply.first("AJ"),
        due=due, due_date=parse_due(due), renewal=_yes(reply.get("renewal_ok")),
        **_texts(reply, raw))
