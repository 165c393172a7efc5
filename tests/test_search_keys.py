"""The e-book search keyboard's rows for the screen's width (kiosk.ui.screens.ebook_search):
every letter and digit within reach, never more keys across than fit a finger each."""

from __future__ import annotations

from kiosk.ui.screens.ebook_search import CLEAR, ERASE, TO_DIGITS, TO_LETTERS, key_rows

LETTERS, DIGITS = set("abcdefghijklmnopqrstuvwxyz"), set("1234567890")


def keys(rows):
    return {key for row in rows for key in row}


def test_landscape_is_qwerty_in_three_rows_with_the_digits_a_key_away():
    letters, digits = key_rows(11), key_rows(11, digits=True)
    assert [len(row) for row in letters] == [10, 9, 10]
    assert "".join(letters[0]) == "qwertyuiop" and "".join(digits[0]) == "1234567890"
    assert keys(letters) >= LETTERS | {ERASE, CLEAR, TO_DIGITS}
    assert keys(digits) >= DIGITS | {ERASE, CLEAR, TO_LETTERS}


def test_portrait_has_every_key_at_once_as_many_to_a_row_as_fit():
    rows = key_rows(6)
    assert max(len(row) for row in rows) == 6
    assert keys(rows) == LETTERS | DIGITS | {ERASE, CLEAR}
    assert "".join(rows[-2] + rows[-1]) == "1234567890"  # the digits on rows of their own
