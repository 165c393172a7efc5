"""Circulation in plain words: why a book cannot be lent, what the patron's blocks mean.

Pure tables of message ids (translated by `kiosk.i18n`) and the few functions that put them
together; the screens and the receipt use them, and tests read them without a screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from common.marks import N_
from kiosk.core.circulation_view import Line, PatronView
from kiosk.core.outcomes import NextAction, Reason

Translate = Callable[..., str]  # tr(language, msgid, **args)


@dataclass(frozen=True)
class Refusal:
    """Why a book was not lent, returned or renewed, in one sentence, and the one thing the
    patron should do next. `with_due`: the sentence when the book's due date is known."""
    message: str
    action: NextAction
    with_due: str = ""


# A line's reason (also the journal outcome of a refused transaction) -> its words and next
# step. The ILS's own words (AF) are said only for ILS_REFUSED, which has no words of ours.
REFUSALS: dict[Reason, Refusal] = {
    Reason.BLOCKED: Refusal(N_("This card cannot borrow or renew right now."),
                            NextAction.DESK),
    Reason.ON_HOLD: Refusal(N_("On hold for another reader."), NextAction.STAFF),
    Reason.NOT_FOR_LOAN: Refusal(N_("For use in the library only."), NextAction.READ_HERE),
    Reason.UNKNOWN_ITEM: Refusal(N_("The library system does not know this item."),
                                 NextAction.STAFF),
    Reason.ON_LOAN: Refusal(N_("This item is on loan to another reader."), NextAction.STAFF),
    Reason.OWN_LOAN: Refusal(N_("This item is already on your card."), NextAction.RENEW,
                             N_("This item is already on your card, due {due}.")),
    Reason.INCOMPLETE_SET: Refusal(N_("Part of this item is missing."), NextAction.ADD_PARTS),
    Reason.UNREADABLE_TAG: Refusal(N_("This tag cannot be read."), NextAction.STAFF),
    Reason.SECURITY_FAILED: Refusal(N_("The alarm could not be changed."),
                                    NextAction.SEE_STAFF),
    Reason.ILS_REFUSED: Refusal(N_("The library system said no."), NextAction.STAFF),
    Reason.ILS_ERROR: Refusal(N_("The library system did not answer properly."),
                              NextAction.STAFF),
    Reason.ILS_UNAVAILABLE: Refusal(N_("The library system cannot be reached right now."),
                                    NextAction.LATER),
    Reason.OFFLINE_LIMIT: Refusal(
        N_("No more items can be accepted while the library system is away."), NextAction.LATER),
    Reason.OFFLINE_FAILED: Refusal(N_("This could not be recorded."), NextAction.STAFF),
    Reason.OFFLINE_NOT_LENDABLE: Refusal(
        N_("This item cannot be lent while the library system is away."), NextAction.LATER),
    # The ILS's answer was lost and it could not be asked: staff look it up, nothing is assumed.
    Reason.UNKNOWN: Refusal(N_("Result unknown."), NextAction.SEE_STAFF),
}
REASONS: dict[str, str] = {reason: refusal.message for reason, refusal in REFUSALS.items()}
# What each next action asks, in words; RENEW is a button on the row, so it needs none there.
ACTIONS: dict[NextAction, str] = {
    NextAction.RENEW: N_("Press Renew to keep it longer."),
    NextAction.STAFF: N_("Please hand it to staff."),
    NextAction.SEE_STAFF: N_("Please see staff before leaving."),
    NextAction.DESK: N_("Please go to the service desk."),
    NextAction.ADD_PARTS: N_("Please put all its parts on the pad."),
    NextAction.READ_HERE: N_("Please read it here in the library."),
    NextAction.LATER: N_("Please try again later."),
    NextAction.NONE: "",
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
NO_TITLE = N_("Barcode {code}")  # a book whose title the ILS did not give (yet)
UNREADABLE = N_("Unreadable tag")
SORT_BIN = N_("Put it in bin {bin}")
HAND_TO_STAFF = N_("Please hand this item to staff.")
# Chinese keeps "有 1 本" together (no-break spaces) and puts the titles on a line of their own:
# a narrow column broke it at a space, and a title between its characters.
HOLDS_READY = N_("Holds ready to collect: {count}")
HOLDS_READY_NAMED = N_("Holds ready to collect ({count}): {titles}")
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
             tr(lang, "Loans: {loans} · overdue: {overdue}",
                loans=patron.charged, overdue=patron.overdue)]
    if patron.holds_ready > 0:
        lines.append(holds_sentence(patron, tr, lang))
    if patron.has_fines:
        lines.append(tr(lang, "Fines owed: {amount}",
                        amount=f"{patron.currency} {patron.fines}".strip()))
    sentence = blocks_sentence(patron.blocks, tr, lang)
    if sentence:
        lines.append(sentence)
    return lines


def line_title(line: Line, tr: Translate, lang: str) -> str:
    """A book by its title; by its barcode, said to be one, only while no title is known."""
    if line.title:
        return line.title
    return tr(lang, NO_TITLE, code=line.item_id) if line.item_id else tr(lang, UNREADABLE)


def refusal_words(line: Line, tr: Translate, lang: str, *, button: bool = False) -> str:
    """One sentence in the patron's language and the next step: why not, then what to do.
    `button`: the next step is a button beside the words (Renew), so it is not said."""
    refusal = REFUSALS[line.reason or Reason.ILS_REFUSED]
    if (line.reason or Reason.ILS_REFUSED) is Reason.ILS_REFUSED and line.message.strip():
        why = in_language(line.message, lang)  # the ILS's reason, which we have no words for
    elif refusal.with_due and line.due:
        why = tr(lang, refusal.with_due, due=line.due)
    else:
        why = tr(lang, refusal.message)
    action = line.action or refusal.action
    step = "" if button and action is NextAction.RENEW else ACTIONS[action]
    return _sentences(lang, why, tr(lang, step) if step else "")


def holds_sentence(patron: PatronView, tr: Translate, lang: str) -> str:
    """"有 1 本预约书可取：《三体》" / "Holds ready to collect (1): 三体", naming those whose
    titles are known (the rest are counted)."""
    titles = [hold.title for hold in patron.holds if hold.title]
    if not titles:
        return tr(lang, HOLDS_READY, count=patron.holds_ready)
    named = "、".join(f"《{t}》" for t in titles) if lang == "zh_CN" else \
        "; ".join(titles)
    return tr(lang, HOLDS_READY_NAMED, count=patron.holds_ready, titles=named)


def line_status(line: Line, flow: str, tr: Translate, lang: str) -> str:
    """The second line of a book's row: borrowed and due when, or why not and what next."""
    if line.status == "busy":
        return tr(lang, BUSY)
    if line.status in ("refused", "staff"):
        return refusal_words(line, tr, lang, button=flow == "borrow")
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


_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")


def in_language(text: str, lang: str) -> str:
    """An ILS's message in the patron's language. Many Chinese ILSs send both in one field
    ("此书已被其他读者预约 On hold for another patron"): Chinese is what runs to the last Chinese
    character, English what follows it. A message in one language is kept whole."""
    text = " ".join(text.split())
    end = max((m.end() for m in _CJK.finditer(text)), default=0)
    chinese, english = text[:end].strip(), text[end:].strip(" :：,，;；-—–")
    if not chinese or not _LATIN.search(english) or not _LATIN.search(english[:1]):
        return text
    return chinese if lang == "zh_CN" else english


def _sentences(lang: str, *parts: str) -> str:
    """Sentences one after another, each ended (the ILS's words often are not): Chinese runs
    them together, English puts a space between."""
    chinese = lang == "zh_CN"
    ended = [part if part[-1] in _ENDS else part + ("。" if chinese else ".")
             for part in parts if part]
    return ("" if chinese else " ").join(ended)


_ENDS = frozenset("。！？.!?…")


# --- the blocked stop --------------------------------------------------------------------

# Why a card cannot borrow, as a whole sentence for the full-screen stop (`charge_denied`
# alone says nothing of why: then the ILS's own words, or the general sentence).
STOP_HEADING = N_("This card cannot borrow books right now")
STOP_REASONS = {
    "card_lost": N_("This card was reported lost."),
    "excessive_fines": N_("There are unpaid fines on this card."),
    "excessive_fees": N_("There are unpaid fees on this card."),
    "too_many_overdue": N_("Some of your books are overdue."),
    "recall_overdue": N_("A book the library asked back is overdue."),
    "too_many_charged": N_("You have as many books on loan as allowed."),
    "too_many_lost": N_("Some of your books are marked lost."),
    "too_many_claims": N_("Some of your books are claimed as returned."),
    "too_many_billed": N_("You have too many billed items."),
}
STOP_GENERAL = N_("Borrowing is blocked on this card.")
STOP_OWED = N_("Amount owed: {amount}")
STOP_WHERE = N_("Please go to the service desk.")
STOP_NEXT = {  # the one thing the card may still do here, as its button says it
    "return": N_("Return books"),
    "account": N_("My account"),
}
_SYMBOLS = {"CNY": "¥", "RMB": "¥", "CNH": "¥", "": "¥", "JPY": "¥", "USD": "$", "EUR": "€",
            "GBP": "£", "HKD": "HK$"}


def money(amount: str, currency: str) -> str:
    """¥35.50 from SIP2's BV "35.50" and BH "CNY" (no currency: a Chinese library's ¥);
    a currency without a sign keeps its code ("35.50 CHF")."""
    amount = amount.strip().replace(",", "")
    try:
        amount = f"{abs(float(amount)):.2f}"
    except ValueError:
        pass  # the ILS's own text, shown as sent
    symbol = _SYMBOLS.get(currency.strip().upper())
    return f"{symbol}{amount}" if symbol is not None else f"{amount} {currency.strip()}"


@dataclass(frozen=True)
class StopWords:
    heading: str
    reasons: tuple[str, ...]
    owed: str  # "" when the ILS reported nothing owed
    where: str


def blocked_stop(patron: PatronView, tr: Translate, lang: str) -> StopWords:
    """The blocked stop's words: why the card cannot borrow, what is owed, where to go."""
    reasons = tuple(tr(lang, STOP_REASONS[b]) for b in patron.blocks if b in STOP_REASONS)
    if not reasons:
        reasons = (in_language(patron.message, lang) if patron.message.strip()
                   else tr(lang, STOP_GENERAL),)
    owed = tr(lang, STOP_OWED, amount=money(patron.fines, patron.currency)) \
        if patron.has_fines else ""
    return StopWords(tr(lang, STOP_HEADING), reasons, owed, tr(lang, STOP_WHERE))
