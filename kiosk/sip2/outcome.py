"""After a lost reply: what the ILS's answers say about the checkout, checkin or renewal whose
reply never arrived readable. Pure functions, any thread.

The client asks the ILS on a new connection (63 with the patron's charged items, 17 item
information) and reads the answers here into a `Finding`: DONE (the result is rebuilt with
`recovered=True`), NOT_DONE (the ILS certainly did not carry it out: sending it once more is
safe), or UNKNOWN (staff must check; never shown as done, failed or offline).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.sip2.codec import parse_due
from kiosk.sip2.results import CheckinResult, CheckoutResult, ItemInfo, PatronInfo, RenewResult

CHARGED = frozenset({"charged", "charged_recall"})
# Item statuses that mean a returned item is back in the library's hands, and the alert
# (SIP2 CV) its lost checkin reply would have carried: 08 is where a returned item with a
# hold goes (an item on the hold shelf is never on loan), 10 is on its way to another branch.
BACK = {"available": "", "waiting_reshelving": "", "waiting_on_hold_shelf": "01",
        "in_transit": "04"}


class Outcome(StrEnum):
    DONE = "done"
    NOT_DONE = "not_done"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Finding:
    outcome: Outcome
    why: str  # what the ILS said, for the log and for staff


def on_loans(charged: tuple[str, ...], item_id: str) -> bool:
    """Whether a 64's AU list holds the item (some servers add the title after the id)."""
    return any(entry == item_id or entry.startswith(item_id + " ") for entry in charged)


def checkout_by_patron(patron: PatronInfo, item_id: str) -> Finding:
    """From 63: the item on the patron's loans means the checkout was done."""
    if patron.valid is False:
        return Finding(Outcome.UNKNOWN, "patron information does not know the patron now")
    if on_loans(patron.charged, item_id):
        return Finding(Outcome.DONE, "the item is on the patron's loans")
    if patron.charged_count > len(patron.charged):
        return Finding(Outcome.UNKNOWN, f"patron information listed only {len(patron.charged)} "
                                        f"of the patron's {patron.charged_count} loans")
    return Finding(Outcome.NOT_DONE, "the item is not on the patron's loans")


def checkout_by_item(before: ItemInfo, after: ItemInfo) -> Finding:
    """From 17 before and after (servers without 63): newly charged with a due date is done."""
    if after.circulation not in CHARGED:
        return Finding(Outcome.NOT_DONE, f"item information says {_status(after)}")
    if before.circulation in CHARGED:
        return Finding(Outcome.UNKNOWN, "the item was on loan before the checkout already")
    if not after.due:
        return Finding(Outcome.UNKNOWN, "item information says charged, without a due date")
    return Finding(Outcome.DONE, "the item is newly on loan")


def checkin_by_item(after: ItemInfo) -> Finding:
    """From 17 after: done only for a status that means the item is back; still charged is
    not done; anything else (01 "other" is what a server says of an item it does not know,
    missing, lost, ...) cannot tell."""
    if after.circulation in BACK:
        return Finding(Outcome.DONE, f"item information says {_status(after)}")
    if after.circulation in CHARGED:
        return Finding(Outcome.NOT_DONE, f"item information says {_status(after)}")
    return Finding(Outcome.UNKNOWN, f"item information says {_status(after)}")


def renewal_by_item(before: ItemInfo, after: ItemInfo) -> Finding:
    """From 17 before and after: a later due date is done. An unchanged one cannot tell
    (a server may renew to the same day), so a renewal is never sent twice."""
    old, new = parse_due(before.due), parse_due(after.due)
    if after.circulation not in CHARGED:
        return Finding(Outcome.UNKNOWN, f"item information says {_status(after)}")
    if old is None or new is None:
        return Finding(Outcome.UNKNOWN, "item information gives no due date to compare")
    if new > old:
        return Finding(Outcome.DONE, f"the due date moved from {old} to {new}")
    return Finding(Outcome.UNKNOWN, f"the due date did not change ({new})")


def _status(info: ItemInfo) -> str:
    return f"its status is {info.circulation_status} ({info.circulation})"


# --- results rebuilt from what the ILS showed -----------------------------------------------

def recovered_checkout(item_id: str, info: ItemInfo | None,
                       raw: tuple[str, ...]) -> CheckoutResult:
    return CheckoutResult(
        ok=True, item_id=item_id, title=info.title if info else "",
        due=info.due if info else "", due_date=parse_due(info.due) if info else None,
        renewal=False, desensitize=None, magnetic=None, fee="", recovered=True, raw=raw)


def recovered_checkin(item_id: str, info: ItemInfo, raw: tuple[str, ...]) -> CheckinResult:
    alert_type = BACK.get(info.circulation, "")
    return CheckinResult(
        ok=True, item_id=item_id, title=info.title, resensitize=None, magnetic=None,
        alert=bool(alert_type), alert_type=alert_type, sort_bin="",
        permanent_location=info.permanent_location, recovered=True, raw=raw)


def recovered_renewal(item_id: str, info: ItemInfo, raw: tuple[str, ...]) -> RenewResult:
    return RenewResult(ok=True, item_id=item_id, title=info.title, due=info.due,
                       due_date=parse_due(info.due), renewal=True, recovered=True, raw=raw)
