"""The e-book search keyboard's rows for the screen's width (kiosk.ui.screens.ebook_search):
every letter and digit within reach, never more keys across than fit a finger each."""

from __future__ import annotations

from kiosk.ui.screens.ebook_search import CLEAR, ERASE, HIDE, TO_DIGITS, TO_LETTERS, key_rows

LETTERS, DIGITS = set("abcdefghijklmnopqrstuvwxyz"), set("1234567890")


def keys(rows):
    return {key for row in rows for key in row}


def test_landscape_is_qwerty_in_three_rows_with_the_digits_a_key_away():
    letters, digits = key_rows(11), key_rows(11, digits=True)
    assert [len(row) for row in letters] == [10, 10, 10]  # the hide key fills the second
    assert letters[1][-1] == digits[1][-1] == HIDE
    assert "".join(letters[0]) == "qwertyuiop" and "".join(digits[0]) == "1234567890"
    assert keys(letters) >= LETTERS | {ERASE, CLEAR, TO_DIGITS}
    assert keys(digits) >= DIGITS | {ERASE, CLEAR, TO_LETTERS}


def test_portrait_has_every_key_at_once_as_many_to_a_row_as_fit():
    rows = key_rows(6)
    assert max(len(row) for row in rows) == 6
    assert keys(rows) == LETTERS | DIGITS | {ERASE, CLEAR, HIDE}
    assert "".join(rows[-2] + rows[-1]) == "1234567890"  # the digits on rows of their own


def test_a_real_keyboard_edits_the_search_and_commands_are_not_typing():
    from kiosk.ui.keys import SearchKey, search_key, typed_text
    assert search_key(8) is SearchKey.ERASE and search_key(127) is SearchKey.CLEAR
    assert search_key(13) is search_key(271) is SearchKey.DONE  # Enter, keypad Enter
    assert search_key(27) is None  # Escape: nothing, and never an exit
    assert search_key(8, ["ctrl"]) is None and search_key(13, ("alt",)) is None
    assert search_key(282) is None and search_key(ord("a")) is None  # F1; text comes as text
    assert typed_text("Hl") == "Hl" and typed_text("红楼") == "红楼"
    assert typed_text("a\r\n\tb\x1b") == "ab"


def test_the_title_page_says_size_in_mb_and_the_link_life_in_minutes_or_hours():
    from kiosk.ui.screens.ebook_title import link_life, size_in_mb

    def tr(_lang, msgid, **args):
        return msgid.format(**args)
    assert size_in_mb(3 * 1024 * 1024 + 200_000) == "3.2 MB" and size_in_mb(2000) == "0.1 MB"
    assert link_life(tr, "en", 1800) == "The link works for 30 minutes"
    assert link_life(tr, "en", 7200) == "The link works for 2 hours"
    assert link_life(tr, "en", None) == ""
