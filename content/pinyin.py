"""Pinyin forms of titles and authors, computed once when a catalogue is written, so that
typing `hlm` or `honglou` on the kiosk's keyboard finds 红楼梦.

Readings come from pypinyin's phrase dictionary for the whole text, which picks the right
reading of most polyphonic characters from context (长安 chang'an, 银行 yinhang, 重庆 chongqing).
Latin letters and digits pass through, lower-cased; other characters are dropped.
`inner` gives the same forms starting at each later syllable, so `loumeng` and `lm` find 红楼梦
but `oumeng` (the middle of a syllable) does not.
"""

from __future__ import annotations

from typing import Any

from pypinyin import Style, lazy_pinyin


def _one_piece_each(chars: str) -> Any:
    """pypinyin's `errors` callback: characters without a reading, one piece each (pypinyin
    takes a list here; its type stubs say str only)."""
    return list(chars)


def _pieces(text: str, style: Style) -> list[str]:
    return lazy_pinyin(text, style=style, errors=_one_piece_each)


def _keep(piece: str) -> str:
    return "".join(c for c in piece.lower() if c.isascii() and c.isalnum())


def spelled(text: str) -> str:
    """红楼梦 -> "hongloumeng"; "三体 III" -> "santiiii"."""
    return "".join(_keep(piece) for piece in _pieces(text, Style.NORMAL))


def initials(text: str) -> str:
    """红楼梦 -> "hlm": the first letter of each Chinese syllable, Latin words and digits kept
    whole ("Python编程" -> "pythonbc")."""
    return "".join(_keep(piece) for piece in _pieces(text, Style.FIRST_LETTER))


def inner(text: str) -> set[tuple[str, str]]:
    """(spelling, initials) from each syllable or Latin word after the first: 中国通史 ->
    {("guotongshi", "gts"), ("tongshi", "ts"), ("shi", "s")}."""
    spelled_pieces = [_keep(p) for p in _pieces(text, Style.NORMAL)]
    initial_pieces = [_keep(p) for p in _pieces(text, Style.FIRST_LETTER)]
    if not len(spelled_pieces) == len(initial_pieces) == len(text):
        return set()  # pieces not one per character: no boundaries we can trust
    forms = set()
    for i in range(1, len(text)):
        if spelled_pieces[i] and (_is_han(text[i]) or _is_han(text[i - 1])
                                  or not spelled_pieces[i - 1]):
            forms.add(("".join(spelled_pieces[i:]), "".join(initial_pieces[i:])))
    return forms


def _is_han(char: str) -> bool:
    """A character pypinyin reads as one syllable (CJK ideographs, any block)."""
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000"
