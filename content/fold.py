"""Traditional characters folded to simplified, so that `養生` finds 养生 and `养生` finds 養生.

The table comes from OpenCC's traditional-to-simplified dictionary, one character at a time,
when a catalogue is written; the catalogue keeps it (about 4,200 pairs), so the kiosk folds
what a patron types with `str.translate` and needs no OpenCC of its own. Folding is for
matching only: titles are shown as staff wrote them, and pinyin is read from the original
text. Characters OpenCC reads differently by context (乾 in 乾隆 and 乾燥) fold the same way on
both sides, so they still match.
"""

from __future__ import annotations

from functools import lru_cache

# The CJK blocks that hold traditional forms: Extension A, the unified block, compatibility.
_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))


@lru_cache(maxsize=1)  # the same for every catalogue a process writes
def traditional_pairs() -> list[tuple[str, str]]:
    """(traditional, simplified) for every character OpenCC simplifies to one character."""
    import opencc  # writers only, like pypinyin

    convert = opencc.OpenCC("t2s").convert
    pairs = []
    for first, last in _BLOCKS:
        for code in range(first, last + 1):
            char = chr(code)
            simple = convert(char)
            if simple != char and len(simple) == 1:
                pairs.append((char, simple))
    return pairs


def table(pairs: list[tuple[str, str]]) -> dict[int, str]:
    """A `str.translate` table from the pairs."""
    return {ord(traditional): simple for traditional, simple in pairs}
