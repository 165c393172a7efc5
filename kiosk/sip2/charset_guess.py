"""Mojibake: whether the bytes of an ILS's reply look like another charset than `[ils]
charset`. Pure, any thread.

Names and titles are where it shows: UTF-8 read as code page 850 or GBK turns 红楼梦 into
`þ║óµÑ╝µóª` or `绾㈡ゼ姊�`, GBK read as UTF-8 into `��¥��`. The bytes tell
more than the text: UTF-8 has a strict structure that other text almost never has by
chance, and Chinese in GBK is mostly pairs of bytes from 0xA1 up (its GB2312 part). Code
page 850 fits any bytes, so it is never the guess.
"""

from __future__ import annotations

NAMES = {"utf-8": "UTF-8", "gbk": "GBK", "cp850": "code page 850"}


def looks_like(data: bytes, configured: str) -> str | None:
    """The charset `data` looks like when that is not `configured` (a value for `[ils]
    charset`), or None: it fits, it is plain ASCII, or there is no telling."""
    if data.isascii():
        return None
    guess = "utf-8" if _utf8(data) else "gbk" if _gbk_chinese(data) else None
    return guess if guess and guess != configured else None


def advice(charset: str) -> str:
    """What to tell a technician, e.g. `... looks like GBK: set [ils] charset = "gbk"`."""
    name = NAMES.get(charset, charset)
    return f'the ILS\'s text looks like {name}: set [ils] charset = "{charset}"'


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True  # and not ASCII: it has multi-byte sequences


def _gbk_chinese(data: bytes) -> bool:
    """Valid GBK whose double-byte characters are mostly from GB2312's Chinese rows, not the
    odd accented letter of a Western charset (one high byte before ASCII)."""
    try:
        text = data.decode("gbk")
    except UnicodeDecodeError:
        return False
    wide = [ch for ch in text if not ch.isascii()]
    chinese = [ch for ch in wide if "\u4e00" <= ch <= "\u9fff" and min(ch.encode("gbk")) >= 0xA1]
    return len(chinese) >= 2 and len(chinese) >= 0.8 * len(wide)
