"""Receipts: what a borrowing, return or renewal did, as narrow plain text and as QR text.

Pure (no Kivy, no devices): the core makes a `Receipt` (`kiosk.core.receipt_data`) when a
patron finishes; the runtime prints `receipt_text()` on the receipt printer and the receipt
screen shows it, `receipt_qr_text()` as a QR code and `receipt_summary()` in large type above
it (`render()` gives all three, once per receipt and language).
Runs on whichever thread calls it (the Kivy main thread in the app).

Widths count what a Chinese receipt printer prints: ASCII takes one column, everything else
(Chinese, full-width punctuation, accented letters, which GB18030 prints double-width) two.
A patron's number is never shown whole: at most its last four digits.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from common.masking import KEEP, mask
from kiosk.core.receipt_data import OUTCOMES, Receipt, ReceiptLine
from kiosk.i18n import N_, Translator

MIN_WIDTH = 24
QR_MAX_BYTES = 600  # what a phone reads off the screen at arm's length, with room to spare
QR_TITLE_COLUMNS = 24  # a title longer than this is shortened in the QR code (not on paper)
_TITLES = {"borrow": N_("Borrowing receipt"), "return": N_("Return receipt"),
           "renew": N_("Renewal receipt")}
_OUTCOME_LABELS = {
    "borrowed": N_("Borrowed"), "returned": N_("Returned"), "renewed": N_("Renewed"),
    "refused": N_("Not done"), "offline": N_("Accepted offline, to be confirmed"),
    "staff": N_("Please see staff"),
}
_OUTCOME_SHORT = {  # one word per book in the QR code, and in the totals
    "borrowed": N_("Borrowed"), "returned": N_("Returned"), "renewed": N_("Renewed"),
    "refused": N_("Not done"), "offline": N_("Pending"), "staff": N_("See staff"),
}
# Reasons the core gives as keys (the journal's outcomes); any other text is the ILS's own.
REASONS = {
    "blocked": N_("card blocked"), "on_hold": N_("on hold for another reader"),
    "not_for_loan": N_("not for loan"), "unknown_item": N_("unknown item"),
    "incomplete_set": N_("parts missing"), "security_failed": N_("security tag not cleared"),
    "ils_refused": N_("refused by the library system"),
    "ils_unavailable": N_("library system unavailable"),
}
_WITH_DUE = ("borrowed", "renewed", "offline")
# The summary's parts, in this order; Chinese counts books with 册.
_SUMMARY = {
    "borrowed": N_("borrowed {count}"), "renewed": N_("renewed {count}"),
    "returned": N_("returned {count}"), "offline": N_("to be confirmed {count}"),
    "refused": N_("not done {count}"), "staff": N_("{count} for staff to see"),
}
_SUMMARY_ORDER = ("borrowed", "renewed", "returned", "offline", "refused", "staff")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")
_CLOSING = set("，。、；：！？）》」』】,.;:!?)")  # never at the start of a line
_DIGITS = re.compile(r"\d")


_translator: Translator | None = None


def _default_translator() -> Translator:
    global _translator
    if _translator is None:
        _translator = Translator()
    return _translator


# --- printed text -------------------------------------------------------------------------

def receipt_text(receipt: Receipt, language: str, width: int = 32, *,
                 translator: Translator | None = None) -> str:
    """The receipt as lines of at most `width` columns. The first line is the header (the
    printer prints it large). Chinese with English labels, or English alone."""
    if width < MIN_WIDTH:
        raise ValueError(f"receipt width must be at least {MIN_WIDTH} columns (got {width})")
    t = translator or _default_translator()

    def label(msgid: str) -> str:
        english = t.tr("en", msgid)
        return english if language == "en" else f"{t.tr('zh_CN', msgid)} {english}"

    out: list[str] = []
    for name in _library_names(receipt, language):
        out += [_centre(piece, width) for piece in wrap(name, width)]
    out.append("=" * width)
    out += wrap(label(_TITLES[receipt.kind]), width)
    out += _pair(label(N_("Date")), receipt.when.strftime("%Y-%m-%d %H:%M"), width)
    out += _pair(label(N_("Kiosk")), receipt.kiosk_id, width)
    if receipt.patron_masked:
        out += _pair(label(N_("Patron")), shown_patron(receipt.patron_masked), width)
    out.append("-" * width)
    for number, line in enumerate(receipt.lines, 1):
        lead = f"{number}. "
        indent = " " * len(lead)
        out += wrap(lead + line.title.strip(), width, indent=indent)
        if line.item_id:
            out += wrap(indent + line.item_id, width, indent=indent)
        outcome = label(_OUTCOME_LABELS[line.outcome])
        if line.reason and line.outcome in ("refused", "staff"):
            outcome += ": " + _reason(line.reason, label)
        out += wrap(indent + outcome, width, indent=indent)
        if line.due and line.outcome in _WITH_DUE:
            out += wrap(f"{indent}{label(N_('Due back'))} {_due(line.due)}", width, indent=indent)
    out.append("-" * width)
    counts = Counter(line.outcome for line in receipt.lines)
    out += _pair(label(N_("Items")), str(len(receipt.lines)), width,
                 flush_right=True)
    for outcome in OUTCOMES:
        if counts[outcome]:
            out += _pair(label(_OUTCOME_SHORT[outcome]), str(counts[outcome]), width,
                         flush_right=True)
    if receipt.footer:
        out.append("-" * width)
        for text in receipt.footer:
            out += wrap(text, width)
    return "\n".join(out) + "\n"


def _library_names(receipt: Receipt, language: str) -> list[str]:
    zh, en = receipt.library_name_zh.strip(), receipt.library_name_en.strip()
    if language == "en":
        return [en or zh]
    return [name for name in (zh, en) if name] or [""]


def _reason(reason: str, label) -> str:
    return label(REASONS[reason]) if reason in REASONS else " ".join(reason.split())


def _due(due: dt.date | str) -> str:
    return due.isoformat() if isinstance(due, dt.date) else " ".join(str(due).split())


def _pair(label: str, value: str, width: int, *, flush_right: bool = False) -> list[str]:
    """`label value` on one line when it fits (the value at the right edge with
    `flush_right`), else the value on its own line below."""
    gap = width - text_width(label) - text_width(value)
    if gap >= 1:
        return [label + (" " * gap if flush_right else " ") + value]
    return wrap(label, width) + wrap("  " + value, width, indent="  ")


def _centre(text: str, width: int) -> str:
    return " " * max(0, (width - text_width(text)) // 2) + text


def shown_patron(patron: str) -> str:
    """The patron's number as a receipt may show it: masked unless at most four digits show."""
    digits = "".join(_DIGITS.findall(patron))
    return patron if len(digits) <= KEEP else mask(digits)


# --- widths and wrapping ------------------------------------------------------------------

def char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    if unicodedata.category(char) in ("Cc", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F", "A") else 1


def text_width(text: str) -> int:
    return sum(char_width(char) for char in text)


def _tokens(text: str) -> list[str]:
    """Words of Latin text, single wide characters, and runs of spaces."""
    return re.findall(r" +|[^\s\u2e80-\uffef]+|\S", text)


def wrap(text: str, width: int, *, indent: str = "") -> list[str]:
    """`text` in lines of at most `width` columns, breaking at spaces in Latin text and between
    any two Chinese characters (not before closing punctuation); a word longer than a line is
    broken between characters. Continuation lines start with `indent`."""
    text = " ".join(text.split("\n")).replace("\t", " ")
    lines: list[str] = []
    line = text[:len(text) - len(text.lstrip(" "))]  # the first line keeps its own indent
    for token in _tokens(text.lstrip(" ")):
        if token.isspace():
            if line.strip() and text_width(line) + len(token) <= width:
                line += token  # a space where the line breaks is dropped
            continue
        if text_width(line) + text_width(token) <= width:
            line += token
            continue
        if line.strip():
            done, carried = _break_before(line, token, indent)
            lines.append(done)
            line = indent + carried
            if text_width(line) + text_width(token) <= width:
                line += token
                continue
        for char in token:  # a word longer than a whole line
            if text_width(line) + char_width(char) > width and line.strip():
                lines.append(line.rstrip())
                line = indent
            line += char
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _break_before(line: str, token: str, indent: str) -> tuple[str, str]:
    """Where to end `line` so `token` can start the next: closing punctuation takes the
    character before it along, so it never begins a line."""
    line = line.rstrip()
    if token[0] in _CLOSING and len(line) > len(indent) + 1 and not line[-1].isspace():
        return line[:-1].rstrip(), line[-1]
    return line, ""


# --- the summary -------------------------------------------------------------------------

def receipt_summary(receipt: Receipt, language: str, *,
                    translator: Translator | None = None) -> str:
    """One line for large type: "借了 3 册 · 应还 2027-01-05" / "Borrowed 3 · due 2027-01-05";
    each outcome counted, and the earliest due date ("first due" when they differ)."""
    t = translator or _default_translator()
    counts = Counter(line.outcome for line in receipt.lines)
    parts = [t.tr(language, _SUMMARY[o], count=counts[o]) for o in _SUMMARY_ORDER if counts[o]]
    dues = sorted({_due(line.due) for line in receipt.lines
                   if line.due and line.outcome in _WITH_DUE and _ISO_DATE.match(_due(line.due))})
    if dues:
        parts.append(t.tr(language, N_("due {date}") if len(dues) == 1 else N_("first due {date}"),
                          date=dues[0]))
    text = " · ".join(parts)
    return text[:1].upper() + text[1:]


# --- the QR code --------------------------------------------------------------------------

def receipt_qr_text(receipt: Receipt, language: str = "zh_CN", *,
                    max_bytes: int = QR_MAX_BYTES - 1,
                    translator: Translator | None = None) -> str:
    """The receipt in one language, compact enough for a QR code (at most `max_bytes` UTF-8):
    one short line per book while they fit, then how many more there were."""
    tr = functools.partial((translator or _default_translator()).tr, language)
    name = _library_names(receipt, language)[0]
    head = [" ".join(part for part in (name, receipt.kiosk_id) if part),
            " ".join(part for part in (tr(_TITLES[receipt.kind]),
                                       receipt.when.strftime("%Y-%m-%d %H:%M")) if part)]
    if receipt.patron_masked:
        head.append(f"{tr(N_('Patron'))} ****{shown_patron(receipt.patron_masked)[-KEEP:]}")
    dues = {_due(line.due) for line in receipt.lines if line.due and line.outcome in _WITH_DUE}
    common_due = dues.pop() if len(dues) == 1 else None
    if common_due:
        head.append(f"{tr(N_('Due back'))} {common_due}")
    counts = Counter(line.outcome for line in receipt.lines)
    tail = [" ".join([f"{tr(N_('Items'))} {len(receipt.lines)}:"]
                     + [f"{tr(_OUTCOME_SHORT[o])} {counts[o]}" for o in OUTCOMES if counts[o]])]
    body: list[str] = []
    for index, line in enumerate(receipt.lines):
        entry = _qr_line(line, tr, common_due)
        rest = len(receipt.lines) - index - 1
        more = [tr(N_("{count} more not listed")).format(count=rest)] if rest else []
        if _size(head + body + [entry] + more + tail) > max_bytes:
            body.append(tr(N_("{count} more not listed")).format(count=rest + 1))
            break
        body.append(entry)
    text = "\n".join(head + body + tail)
    if len(text.encode("utf-8")) > max_bytes:  # a library name or kiosk id far too long
        text = text.encode("utf-8")[:max_bytes].decode("utf-8", "ignore")
    return text


def _qr_line(line: ReceiptLine, tr, common_due: str | None) -> str:
    parts = [tr(_OUTCOME_SHORT[line.outcome]), _shorten(" ".join(line.title.split()))]
    if line.due and line.outcome in _WITH_DUE and _due(line.due) != common_due:
        parts.append(_due(line.due))
    if line.reason and line.outcome in ("refused", "staff"):
        reason = tr(REASONS[line.reason]) if line.reason in REASONS else line.reason
        parts.append(f"({_shorten(' '.join(reason.split()))})")
    return " ".join(part for part in parts if part)


def _shorten(text: str, columns: int = QR_TITLE_COLUMNS) -> str:
    if text_width(text) <= columns:
        return text
    out = ""
    for char in text:
        if text_width(out + char) > columns - 3:
            break
        out += char
    return out.rstrip() + "..."


def _size(lines: list[str]) -> int:
    return len("\n".join(lines).encode("utf-8"))


@dataclass(frozen=True)
class Rendered:
    text: str  # as the printer prints it
    qr: str  # the QR code's text
    summary: str = ""  # the line above the preview


@functools.lru_cache(maxsize=4)
def render(receipt: Receipt, language: str) -> Rendered:
    """The receipt's text, QR text and summary in `language`: rendered once per language,
    though the screen is shown again on every change of the view and the printer may be asked
    more than once."""
    return Rendered(receipt_text(receipt, language), receipt_qr_text(receipt, language),
                    receipt_summary(receipt, language))
