"""Pinyin forms of titles and authors, computed once when a catalogue is written, so that
typing `hlm` or `honglou` on the kiosk's keyboard finds 红楼梦.

Readings come from pypinyin's phrase dictionary for the whole text, which picks the right
reading of most polyphonic characters from context (长安 chang'an, 银行 yinhang, 重庆 chongqing).
Latin letters and digits pass through, lower-cased; other characters are dropped.
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
