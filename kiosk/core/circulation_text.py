"""Circulation in plain words: why a book cannot be lent, what the patron's blocks mean.

Pure tables of message ids (translated by `kiosk.i18n`) and the few functions that put them
together; the screens and the receipt use them, and tests read them without a screen.
"""

from __future__ import annotations

from typing import Callable

from common.marks import N_
from kiosk.core.circulation_view import Line, PatronView
from kiosk.core.outcomes import Reason

Translate = Callable[..., str]  # tr(language, msgid, **args)

# A line's reason (also the journal outcome of a refused transaction).
REASONS: dict[str, str] = {  # keyed by `Reason`
    Reason.BLOCKED: N_("Your card cannot borrow right now. Please ask staff."),
    Reason.ON_HOLD: N_("On hold for another reader."),
    Reason.NOT_FOR_LOAN: N_("This item is for use in the library only."),
    Reason.UNKNOWN_ITEM: N_("The library system does not know this item. Please hand it to staff."),
    Reason.ON_LOAN: N_("This item is on loan. Please hand it to staff."),
    Reason.INCOMPLETE_SET: N_("Part of this item is missing. Please put all parts on the pad."),
    Reason.UNREADABLE_TAG: N_("This tag cannot be read. Please hand the item to staff."),
    Reason.SECURITY_FAILED: N_("The alarm could not be changed. Please see staff before leaving."),
    Reason.ILS_REFUSED: N_("The library system said no."),
    Reason.ILS_ERROR: N_("The library system did not answer properly. Please ask staff."),
    Reason.ILS_UNAVAILABLE: N_("The library system cannot be reached right now. Please ask staff."),
    Reason.OFFLINE_LIMIT: N_("No more items can be accepted while the library system is away."),
    Reason.OFFLINE_FAILED: N_("This could not be recorded. Please ask staff."),
    Reason.OFFLINE_NOT_LENDABLE: N_("This item cannot be lent while the library system is away."),
    # The ILS's answer was lost and it could not be asked: staff look it up, nothing is assumed.
    Reason.UNKNOWN: N_("Result unknown: please contact staff."),
}

# What a finished line says, by flow and status.
DONE = {
    ("borrow", "ok"): N_("Borrowed, due {due}"),
    ("borrow", "renewal"): N_("Renewed, due {due}"),
    ("borrow", "offline"): N_("Accepted, to be confirmed when the library system is back"),
    ("return", "ok"): N_("Returned"),
    ("return", "offline"): N_("Accepted, to be confirmed when the library system is back"),
    ("account", "listed"): N_("Due {due}"),
    ("account", "overdue"): N_("Overdue since {due}"),
    ("account", "ok"): N_("Renewed, now due {due}"),
}
BUSY = N_("Checking…")
SORT_BIN = N_("Put it in bin {bin}")
HAND_TO_STAFF = N_("Please hand this item to staff.")
UNCHECKED = N_("Your account cannot be checked right now; what you borrow is confirmed when the "
               "library system is back.")

# The patron-status flags of a SIP2 patron, as a patron would say them.
BLOCKS = {
    "charge_denied": N_("borrowing is blocked"),
    "renewal_denied": N_("renewals are blocked"),
    "recall_denied": N_("recalls are blocked"),
    "hold_denied": N_("holds are blocked"),
    "card_lost": N_("this card was reported lost"),
    "too_many_charged": N_("you have as many loans as allowed"),
    "too_many_overdue": N_("you have too many overdue items"),
    "too_many_renewals": N_("you have renewed as often as allowed"),
    "too_many_claims": N_("you have too many items claimed as returned"),
    "too_many_lost": N_("you have too many lost items"),
    "excessive_fines": N_("you have unpaid fines"),
    "excessive_fees": N_("you have unpaid fees"),
    "recall_overdue": N_("a recalled item is overdue"),
    "too_many_billed": N_("you have too many billed items"),
}


def blocks_sentence(blocks: tuple[str, ...], tr: Translate, lang: str) -> str:
    """"Please note: borrowing is blocked; you have unpaid fines. Please ask staff." or ""."""
    known = [tr(lang, BLOCKS[b]) for b in blocks if b in BLOCKS]
    if not known:
        return ""
    separator = "；" if lang == "zh_CN" else "; "
    return tr(lang, "Please note: {reasons}. Please ask staff.", reasons=separator.join(known))


def patron_summary(patron: PatronView, tr: Translate, lang: str) -> list[str]:
    """The patron's account in a few plain lines (a `PatronView`)."""
    if not patron.checked:
        return [tr(lang, "Card {card}", card=patron.masked),
                tr(lang, UNCHECKED)]
    lines = [tr(lang, "Hello, {name}", name=patron.name) if patron.name
             else tr(lang, "Card {card}", card=patron.masked),
             tr(lang, "Loans: {loans} · overdue: {overdue} · holds ready: {holds}",
                loans=patron.charged, overdue=patron.overdue, holds=patron.holds_ready)]
    if patron.has_fines:
        lines.append(tr(lang, "Fines owed: {amount}",
                        amount=f"{patron.currency} {patron.fines}".strip()))
    sentence = blocks_sentence(patron.blocks, tr, lang)
    if sentence:
        lines.append(sentence)
    return lines


def line_status(line: Line, flow: str, tr: Translate, lang: str) -> str:
    """The second line of a book's row: borrowed and due when, or why not."""
    if line.status == "busy":
        return tr(lang, BUSY)
    if line.status in ("refused", "staff"):
        text = tr(lang, REASONS[line.reason or Reason.ILS_REFUSED])
        return f"{text} {line.message}".strip() if line.message else text
    if flow == "account":
        key = "ok" if line.renewed else ("overdue" if line.overdue else "listed")
    elif flow == "borrow" and line.status == "ok" and line.renewal:
        key = "renewal"
    else:
        key = line.status
    text = tr(lang, DONE[(flow, key)], due=line.due or "—")
    if flow == "return" and line.status in ("ok", "offline"):
        if line.sort_bin:
            text += " · " + tr(lang, SORT_BIN, bin=line.sort_bin)
        if line.alert:
            text += " · " + tr(lang, HAND_TO_STAFF)
    return text
