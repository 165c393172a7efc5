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
    "session": N_("Visit"),
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
}
OUTCOMES = {
    "blocked": N_("card blocked"),
    "on_hold": N_("on hold for another reader"),
    "not_for_loan": N_("not for loan"),
    "unknown_item": N_("item unknown to the library system"),
    "on_loan": N_("already on loan"),
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
}


def event_label(t: Callable[..., str], event: str) -> str:
    return t(EVENTS[event]) if event in EVENTS else event


def outcome_label(t: Callable[..., str], outcome: str) -> str:
    return t(OUTCOMES[outcome]) if outcome in OUTCOMES else outcome


def category_label(t: Callable[..., str], language: str, category: str) -> str:
    """A category in `language`, or that a title has none (its catalogue never came)."""
    return category_name(category, language) if category else t("(no category)")
