"""ISBN-10 and ISBN-13 as staff type them into the metadata sheet: hyphens, spaces, an "ISBN"
prefix and full-width characters (a Chinese input method) are allowed; the check digit is
verified; the ISBN is kept as its digits (and X), which the catalogue's search matches whether
a patron types hyphens or not. Each refusal says, in Chinese and English, what to fix."""

from __future__ import annotations

import re
import unicodedata

from content.staff_text import CellValueError

_PREFIX = re.compile(r"^ISBN(?:-?1[03])?\s*:?\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")
# A number as Excel writes it once the column's format is not "Text": 9.78702E+12.
_EXCEL_NUMBER = re.compile(r"^\d+(?:\.\d*)?[eE][+-]?\d+$")
_AS_TEXT_ZH = "请在 Excel/WPS 中把 isbn 列的单元格格式设为“文本”，再重新输入 ISBN。"
_AS_TEXT_EN = ("format the column as Text in Excel/WPS (Format Cells > Text) and type the "
               "ISBN again.")


class IsbnError(CellValueError):
    """An ISBN that cannot be right; `zh` and `en` say why and what to do."""


def normalise_isbn(typed: str) -> str:
    """The ISBN's digits (an ISBN-10's check character X in capitals), or "" for none."""
    text = unicodedata.normalize("NFKC", typed).strip()
    if not text:
        return ""
    if _EXCEL_NUMBER.match(text):
        raise IsbnError(f"“{typed}”是 Excel 把 ISBN 当成数字后的写法，后几位已丢失。{_AS_TEXT_ZH}",
                        f"{typed!r} is how Excel writes an ISBN it took for a number, and the "
                        f"last digits are lost: {_AS_TEXT_EN}")
    isbn = _SEPARATORS.sub("", _PREFIX.sub("", text))
    stray = "".join(dict.fromkeys(re.sub(r"[0-9Xx]", "", isbn)))  # as typed, each once
    isbn = isbn.upper()
    if stray or not isbn:
        shown = stray or text
        raise IsbnError(f"“{typed}”含有 ISBN 里不会有的字符（{shown}）：ISBN 只有数字、连字符，"
                        "ISBN-10 末位可以是 X。请对照书的版权页改正，没有 ISBN 就留空。",
                        f"{typed!r} holds characters an ISBN has not ({shown}): an ISBN is "
                        "digits and hyphens, and an ISBN-10 may end in X. Copy it from the "
                        "book's copyright page, or leave the cell empty if it has none.")
    if "X" in isbn[:-1] or (isbn.endswith("X") and len(isbn) != 10):
        raise IsbnError(f"“{typed}”中的 X 只能是 ISBN-10 的最后一位。请对照书的版权页改正。",
                        f"{typed!r}: X can only be the last character of an ISBN-10. Copy the "
                        "ISBN from the book's copyright page.")
    if len(isbn) == 9 and _check_10("0" + isbn):
        raise IsbnError(f"“{typed}”少了开头的 0（应为 0{isbn}）：Excel 把它当成了数字。"
                        + _AS_TEXT_ZH,
                        f"{typed!r} lost its leading 0 (0{isbn}) when Excel took it for a "
                        f"number: {_AS_TEXT_EN}")
    if len(isbn) not in (10, 13):
        raise IsbnError(f"“{typed}”有 {len(isbn)} 位，ISBN 应为 10 位或 13 位。"
                        "请对照书的版权页改正，没有 ISBN 就留空。",
                        f"{typed!r} has {len(isbn)} digits; an ISBN has 10 or 13. Copy it "
                        "from the book's copyright page, or leave the cell empty if it has none.")
    if len(isbn) == 13 and not isbn.startswith(("978", "979")):
        raise IsbnError(f"“{typed}”不是 ISBN：13 位的 ISBN 以 978 或 979 开头。"
                        "请对照书的版权页改正。",
                        f"{typed!r} is not an ISBN: a 13-digit ISBN starts with 978 or 979. "
                        "Copy it from the book's copyright page.")
    if not (_check_13(isbn) if len(isbn) == 13 else _check_10(isbn)):
        raise IsbnError(f"“{typed}”的校验位（最后一位）与前面的数字不符，有一位输错了。"
                        "请对照书的版权页改正。",
                        f"{typed!r}: the check digit (the last one) does not match the others, "
                        "so a digit is mistyped. Copy the ISBN from the book's copyright page.")
    return isbn


def same_book(isbn: str) -> str:
    """A normalised ISBN as its ISBN-13, so that an ISBN-10 and its ISBN-13 compare equal."""
    if len(isbn) != 10:
        return isbn
    body = "978" + isbn[:9]
    return body + str(-_weighted_13(body) % 10)


def _check_13(isbn: str) -> bool:
    return _weighted_13(isbn) % 10 == 0


def _weighted_13(digits: str) -> int:
    return sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))


def _check_10(isbn: str) -> bool:
    if not isbn[:9].isdigit():
        return False
    values = [int(d) for d in isbn[:9]] + [10 if isbn[9] == "X" else int(isbn[9])]
    return sum(v * (10 - i) for i, v in enumerate(values)) % 11 == 0
