"""Intents left open (the kiosk stopped mid-transaction, or a reply was lost): what did the ILS
do? Asked on the ILS worker's thread with item information (17), which needs no patron number
(the journal keeps only its keyed hash). The verdicts are pure functions of what 17 says.

A verdict of None means the ILS's answer does not tell (an item it does not know, "missing",
no 17 at all): the intent stays open and is listed for staff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.core.ils_calls import due_text
from kiosk.sip2.outcome import BACK, CHARGED

log = logging.getLogger(__name__)

DONE = "reconciled"  # the ILS shows the transaction done
NOT_DONE = "reconciled_not_done"  # the ILS shows it was not done


@dataclass(frozen=True)
class OpenIntent:
    seq: int  # the intent's journal row
    operation: str  # checkout, checkin, renew
    item_id: str
    due_before: str = ""  # renewals: the due date the patron saw (YYYY-MM-DD)


@dataclass(frozen=True)
class Reconciled:
    """One verdict; the worker puts it on the kiosk's queue, the runtime journals it."""
    intent: OpenIntent
    outcome: str | None  # DONE, NOT_DONE, or None: still unknown
    ils_state: str = ""  # what the ILS said of the item, for the journal row and staff
    due: str = ""


def verdict(intent: OpenIntent, circulation: str, due: str, known: bool) -> str | None:
    """DONE, NOT_DONE or None from the item's state in the ILS; `known`: the ILS knows it."""
    if not known:
        return None
    if intent.operation == "checkout":
        return DONE if circulation in CHARGED else NOT_DONE if circulation in BACK else None
    if intent.operation == "checkin":
        return DONE if circulation in BACK else NOT_DONE if circulation in CHARGED else None
    if intent.operation == "renew":
        if circulation not in CHARGED or not due or not intent.due_before:
            return None
        return NOT_DONE if due == intent.due_before else DONE
    return None


def reconcile(intents: Sequence[OpenIntent], client: Any,
              on_result: Callable[[Reconciled], None]) -> int:
    """Ask the ILS about each intent through `client` (a connected `Sip2Client`); returns how
    many got a verdict. Stops at the first failure to reach the ILS (the rest stay open)."""
    from kiosk.sip2.errors import IlsError, IlsUnavailable, IlsUnsupported

    decided = 0
    for intent in intents:
        try:
            info = client.item(intent.item_id)
        except IlsUnsupported:
            log.warning("intent %d (%s of %s): the ILS has no item information (17) to ask; "
                        "left for staff", intent.seq, intent.operation, intent.item_id)
            on_result(Reconciled(intent, None, "no item information"))
            continue
        except IlsUnavailable as e:
            log.info("reconciling stopped, the ILS went away: %s", e)
            break
        except IlsError as e:
            log.warning("intent %d (%s of %s): the ILS's answer is unreadable: %s", intent.seq,
                        intent.operation, intent.item_id, e)
            on_result(Reconciled(intent, None, "unreadable answer"))
            continue
        due = due_text(None, info.due)
        known = bool(info.title) and info.circulation != "other"
        outcome = verdict(intent, info.circulation, due, known)
        log.info("intent %d (%s of %s): the ILS says %s -> %s", intent.seq, intent.operation,
                 intent.item_id, info.circulation, outcome or "unknown, left for staff")
        decided += outcome is not None
        on_result(Reconciled(intent, outcome, info.circulation if known else "unknown item",
                             due))
    return decided
