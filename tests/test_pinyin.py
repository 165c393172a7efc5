"""Pinyin forms for search: initials and full spelling, polyphonic characters in context."""

import pytest

from content.pinyin import initials, spelled


@pytest.mark.parametrize("text, first, full", [
    ("红楼梦", "hlm", "hongloumeng"),
    ("长安十二时辰", "casesc", "changanshiershichen"),  # 长 read chang in 长安, not zhang
    ("重庆森林", "cqsl", "chongqingsenlin"),  # 重 read chong, not zhong
    ("银行家", "yhj", "yinhangjia"),  # 行 read hang, not xing
    ("Python编程", "pythonbc", "pythonbiancheng"),
    ("三体 III", "stiii", "santiiii"),
    ("《活着》", "hz", "huozhe"),  # title marks dropped
    ("", "", ""),
])
def test_initials_and_spelling(text, first, full):
    assert (initials(text), spelled(text)) == (first, full)


# --- the dictionary reader reads as pypinyin does ----------------------------------------

def _by_pypinyin(text):
    from pypinyin import Style, lazy_pinyin

    def each(chars):
        return list(chars)

    def kept(style):
        return "".join("".join(c for c in piece.lower() if c.isascii() and c.isalnum())
                       for piece in lazy_pinyin(text, style=style, errors=each))
    return kept(Style.NORMAL), kept(Style.FIRST_LETTER)


def _texts():
    import random

    import pypinyin.constants as known
    phrases = list(known.PHRASES_DICT)
    rng = random.Random(3)
    mixed = ["".join(rng.choice(phrases)[:rng.randrange(1, 4)] for _ in range(rng.randrange(1, 4)))
             + rng.choice(["", "a", " 3", "·", "K", "İ"]) for _ in range(3000)]
    return [chr(code) for code in known.PINYIN_DICT] + phrases + mixed


def test_every_character_and_phrase_reads_as_pypinyin_reads_it():
    """The catalogue's pinyin is read from pypinyin's data without pypinyin (54 MB): the
    readings must be the ones pypinyin gives, phrase by phrase, or old terms would change."""
    from content.pinyin import read
    differ = [(text, (read(text).spelled, read(text).initials), _by_pypinyin(text))
              for text in _texts()
              if (read(text).spelled, read(text).initials) != _by_pypinyin(text)]
    assert differ[:10] == []


def test_the_dictionary_keeps_its_phrases_in_a_few_objects():
    """The phrases sorted in one list and their readings in one string, not a dict of 47,000
    entries besides the list: a third of the memory a catalogue build holds it in."""
    import tracemalloc

    from content.pinyin import _dictionary, release_dictionary
    release_dictionary()
    tracemalloc.start()
    try:
        words = _dictionary()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 7_000_000
    assert words.reading("银行") is not None and words.reading("银行家的") is None


def test_a_released_dictionary_reads_as_before():
    from content.pinyin import read, release_dictionary
    before = read("长安十二时辰：银行家")
    release_dictionary()
    assert read("长安十二时辰：银行家") == before
