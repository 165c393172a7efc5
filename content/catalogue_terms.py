"""What a catalogue's search terms are, shared by the writer and the readers of every format:
the kinds of term, in ranking order, and how a query and a term are compared."""

from __future__ import annotations

import re

# Term kinds, in ranking order within a match tier: those from the start, then (format 2 on)
# pinyin from a later syllable.
TITLE, TITLE_INITIALS, TITLE_SPELLED, AUTHOR, AUTHOR_INITIALS, AUTHOR_SPELLED, ISBN = range(7)
KINDS = range(7)
TITLE_INNER_SPELLED, TITLE_INNER_INITIALS, AUTHOR_INNER_SPELLED, AUTHOR_INNER_INITIALS = (
    range(7, 11))
INNER_KINDS = range(7, 11)


def starts_with(param: str) -> str:
    """The condition on `terms k` for every term starting with the bound `param`."""
    return f"k.term >= {param} AND k.term < {param} || char(1114111)"


def squash(text: str) -> str:
    """What a query and a term are compared as: lower case, no spaces or middle dots."""
    return _SQUASHED.sub("", text.lower())


_SQUASHED = re.compile(r"[\s·•・'\-]+")


def digits(isbn: str) -> str:
    return re.sub(r"[^0-9xX]", "", isbn).lower()


COUNTED_LETTERS = 4  # a query of Latin letters and digits up to this long is counted when the
COUNTED_DIGITS = 7  # catalogue is written; of an ISBN-13's first digits (97...) up to this long
COUNTED_WINDOWS = 64  # counts are kept only while titles share at most this many licence windows


def counted(key: str) -> bool:
    """Whether the catalogue file holds how many titles the query `key` finds (when its text
    and term are the same): one character, or a few Latin letters and digits, or the start of
    an ISBN-13. Those match many titles; counting them at search time would read much of the
    index at each key typed."""
    if len(key) == 1:
        return True
    if not (key.isascii() and key.isalnum()):
        return False
    return len(key) <= COUNTED_LETTERS or counted_digits(key)


PREFIXES_ONLY = "#"  # before a key: the titles with a term starting with it, not containing it


def counted_digits(term: str) -> bool:
    """Whether the file holds how many titles have a term starting with these digits (what an
    ISBN typed with hyphens finds, when no title's text holds what was typed)."""
    return (term.isascii() and term.isdigit()
            and (len(term) <= COUNTED_LETTERS
                 or (term.startswith("97") and len(term) <= COUNTED_DIGITS)))
