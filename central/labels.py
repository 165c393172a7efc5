"""What the kiosks' event, outcome and e-book category keys mean, in the staff's words, for
the figures page.

The keys are what kiosks upload (the journal's kinds and outcomes, the catalogue's categories);
one not listed here is shown as it came, so a newer kiosk's figures still appear.
"""

from __future__ import annotations

from typing import Callable

from central.i18n import N_
from common.categories import category_name

EVENTS = {
    "session": N_("Kiosk session"),
    "checkout": N_("Borrow"),
    "checkin": N_("Return"),
    "renew": N_("Renewal"),
    "ebook_view": N_("E-book viewed"),
    "ebook_qr": N_("E-book QR code"),
    "ebook_download": N_("E-book download"),
    "search": N_("Search"),
    "receipt": N_("Receipt"),
    "offline_replay": N_("Offline transaction sent later"),
    "error": N_("Error"),
    "admin": N_("Staff menu"),
    "intent": N_("Transaction begun"),
    "service": N_("Kiosk service"),
}
OUTCOMES = {
    "blocked": N_("card blocked"),
    "on_hold": N_("on hold for another reader"),
    "not_for_loan": N_("not for loan"),
    "unknown_item": N_("item unknown to the library system"),
    "on_loan": N_("already on loan"),
    "own_loan": N_("already on this reader's card"),
    "incomplete_set": N_("part of the item missing"),
    "unreadable_tag": N_("tag unreadable"),
    "security_failed": N_("alarm not changed"),
    "ils_refused": N_("refused by the library system"),
    "ils_error": N_("library system answered wrongly"),
    "ils_unavailable": N_("library system unreachable"),
    "offline": N_("accepted offline"),
    "offline_limit": N_("offline limit reached"),
    "offline_failed": N_("offline record failed"),
    "refused": N_("refused"),
    "expired": N_("link expired"),
    "bad signature": N_("link not valid"),
    "not found": N_("title not found"),
    "print_failed": N_("printing failed"),
    # Outcomes that are no failure (central/tally.py): shown with older kiosks' replays, and
    # named so that any outcome a kiosk sends reads in the staff's words.
    "ok": N_("done"),
    "unknown": N_("result not known yet"),
    "reconciled": N_("found done in the library system"),
    "reconciled_not_done": N_("found not done in the library system"),
    "checked_by_staff": N_("checked by staff"),
    "replayed": N_("accepted offline, then by the library system"),
    "replay_refused": N_("accepted offline, then refused by the library system"),
    "offline_not_lendable": N_("not lent while offline"),
    "sent": N_("sent to the library system"),
    "shown": N_("shown on screen"),
    "printed": N_("printed"),
    "server_unavailable": N_("download service not running"),
    "no_download_address": N_("no download address set"),
    "other kiosk": N_("link of another kiosk"),
    "malformed": N_("link damaged"),
    "in_app_browser": N_("opened in WeChat or QQ: told to use a browser"),
    "timeout": N_("timed out"),
    "finished": N_("finished"),
    "admin": N_("ended for the staff menu"),
    "out_of_service": N_("out of service"),
    "restored": N_("back in service"),
    "abandoned": N_("left without a result"),
    "pin_wrong": N_("wrong PIN"),
    "pin_locked": N_("PIN locked"),
    "restart": N_("restart"),
    "upload": N_("upload started"),
    "offline_acknowledged": N_("offline refusal acknowledged"),
}


def event_label(t: Callable[..., str], event: str) -> str:
    return t(EVENTS[event]) if event in EVENTS else event


def outcome_label(t: Callable[..., str], outcome: str) -> str:
    """An `intent` row's outcome is the transaction about to be sent: named as that event."""
    if outcome in OUTCOMES:
        return t(OUTCOMES[outcome])
    return event_label(t, outcome)


def category_label(t: Callable[..., str], language: str, category: str) -> str:
    """A category in `language`, or that a title has none (its catalogue never came)."""
    return category_name(category, language) if category else t("(no category)")
