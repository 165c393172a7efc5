"""Pinyin forms of titles and authors, computed once when a catalogue is written, so that
typing `hlm` or `honglou` on the kiosk's keyboard finds 红楼梦.

Readings come from pypinyin's dictionaries (its package data, read here directly): the whole
text is cut into the longest phrases the phrase dictionary knows, as pypinyin cuts it, which
picks the right reading of most polyphonic characters from context (长安 chang'an, 银行
yinhang, 重庆 chongqing); other characters take their first single reading. Latin letters and
digits pass through, lower-cased; other characters are dropped.

Why not pypinyin itself: it holds its dictionaries as Python lists of tone-marked strings plus
a set of every phrase prefix, 54 MB, more than a whole catalogue build may use. Here the same
data is about 5 MB: one toneless syllable number per character code, one sorted list of
phrases and one string of their readings (a character a syllable number).
tests/test_pinyin.py checks the readings against pypinyin's `lazy_pinyin` over every
character and phrase it knows, so the catalogue keeps the forms it had.

`inner` gives the same forms starting at each later syllable, so `loumeng` and `lm` find 红楼梦
but `oumeng` (the middle of a syllable) does not. `read` gives all of a text's forms from one
reading, the later syllables as offsets into the whole spelling and initials: the catalogue
writer uses it, the other functions are for tests and one-off use. A text is read by its
parts (runs of Chinese characters, runs of other characters), each part's forms kept: titles
are made of words that recur.
"""

from __future__ import annotations

import bisect
import importlib.util
import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

# The characters pypinyin reads as Chinese (its RE_HANS): a run of them is cut into phrases;
# any other character is a piece of its own.
_HAN_RANGES = ((0x3007, 0x3007), (0xE815, 0xE864), (0xFA18, 0xFA18), (0x3400, 0x4DBF),
               (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF), (0x2A703, 0x2B73F),
               (0x2B740, 0x2B81D), (0x2B825, 0x2BF6E), (0x2C029, 0x2CE93), (0x2D016, 0x2D016),
               (0x2D11B, 0x2EBD9), (0x2F80A, 0x2FA1F), (0x30000, 0x3134A),
               (0x300F7, 0x31288), (0x30EDD, 0x30EDE), (0x31350, 0x32389))
_FIRST, _LAST = 0x3007, 0x32389
_TONE_MARKS = re.compile("[\u0300\u0301\u0304\u030c]")  # grave, acute, macron, caron


def _toneless(syllable: str) -> str:
    """hóng -> hong, lǜ -> lv, ế -> ê: pypinyin's NORMAL style."""
    decomposed = unicodedata.normalize("NFD", syllable).replace("u\u0308", "v")
    return unicodedata.normalize("NFC", _TONE_MARKS.sub("", decomposed))


NONE, PREFIX, PHRASE = range(3)  # what _Dictionary.find says of a word


class _Dictionary:
    """pypinyin's single-character and phrase readings, first reading only, toneless."""

    def __init__(self, folder: Path) -> None:
        syllables: dict[str, int] = {"": 0}
        self.syllables: list[str] = [""]
        numbers: dict[str, int] = {}  # tone-marked reading -> its toneless syllable's number

        def number(reading: str) -> int:
            if reading not in numbers:
                plain = _toneless(reading)
                if plain not in syllables:
                    syllables[plain] = len(self.syllables)
                    self.syllables.append(plain)
                numbers[reading] = syllables[plain]
            return numbers[reading]

        self.single = array("H", bytes(2 * (_LAST - _FIRST + 1)))
        is_han = bytearray(_LAST - _FIRST + 1)
        for first, last in _HAN_RANGES:
            is_han[first - _FIRST:last - _FIRST + 1] = b"\1" * (last - first + 1)
        self.is_han = bytes(is_han)
        # The files are read as bytes and only the matches decoded: no copy of a whole file
        # as text, whose freed pages the allocator would keep for the rest of the build.
        data = (folder / "pinyin_dict.json").read_bytes()
        for code, readings in map(re.Match.groups, re.finditer(rb'"(\d+)"\s*:\s*"([^"]*)"',
                                                                data)):
            if _FIRST <= int(code) <= _LAST:
                self.single[int(code) - _FIRST] = number(
                    readings.split(b",")[0].decode("utf-8"))
        del data
        phrases: dict[str, str] = {}
        data = (folder / "phrases_dict.json").read_bytes()
        # "一丁不识": [["yī"], ["dīng"], ...]: the first reading of each character's list.
        for match in re.finditer(rb'"([^"]+)"\s*:\s*\[((?:\s*\[[^\]]*\]\s*,?)*)\s*\]',
                                 data):
            phrase, lists = match.groups()
            firsts = re.findall(rb'\[\s*"([^"]*)"', lists)
            phrases[phrase.decode("utf-8")] = "".join(  # compact: a character a syllable
                chr(number(reading.decode("utf-8"))) for reading in firsts)
        del data
        # The phrases sorted, their readings one string: a third of a dict's memory, and
        # one binary search answers both "is it a phrase" and "does one start with it".
        self.sorted = sorted(phrases)
        self._readings = "".join(map(phrases.__getitem__, self.sorted))
        self._ends = array("I", accumulate(map(len, map(phrases.__getitem__, self.sorted))))
        del phrases
        # Per syllable number: (spelling, initial) as the catalogue keeps them.
        self.forms = [(_keep(syllable), _keep(syllable[:1])) for syllable in self.syllables]

    def find(self, word: str) -> int:
        """PHRASE if `word` is a phrase, PREFIX if only the start of some, else NONE."""
        at = bisect.bisect_left(self.sorted, word)
        if at == len(self.sorted) or not self.sorted[at].startswith(word):
            return NONE
        return PHRASE if len(self.sorted[at]) == len(word) else PREFIX

    def reading(self, word: str) -> str | None:
        """The phrase's readings, a syllable number per character; None if not a phrase."""
        at = bisect.bisect_left(self.sorted, word)
        if at == len(self.sorted) or self.sorted[at] != word:
            return None
        return self._readings[self._ends[at - 1] if at else 0:self._ends[at]]

    def han(self, char: str) -> bool:
        code = ord(char)
        return _FIRST <= code <= _LAST and self.is_han[code - _FIRST] == 1

    def number(self, char: str) -> int:
        """The number of the character's first reading; 0 for none."""
        code = ord(char)
        return self.single[code - _FIRST] if _FIRST <= code <= _LAST else 0


@lru_cache(maxsize=1)
def _dictionary() -> _Dictionary:
    spec = importlib.util.find_spec("pypinyin")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise ImportError("pypinyin's dictionaries are needed to write a catalogue")
    return _Dictionary(Path(spec.origin).parent)


def release_dictionary() -> None:
    """Drop the dictionary and the readings kept (some 18 MB): a catalogue build's pinyin is
    all read. The next reading loads it again."""
    for cached in (_dictionary, _run_pieces, _other_piece, _part, read, char_initials):
        cached.cache_clear()


def _cut(run: str, words: _Dictionary) -> list[str]:
    """A run of Chinese characters cut as pypinyin's forward maximum matching cuts it (its
    strict mode): the longest phrase from the start, else one character; a rest that only
    starts phrases becomes single characters."""
    out: list[str] = []
    rest = run
    while rest:
        valid = ""
        for end in range(1, len(rest) + 1):
            word = rest[:end]
            found = words.find(word)
            if found == NONE:
                if valid:
                    out.append(valid)
                    rest = rest[len(valid):]
                else:
                    out.append(rest[0])
                    rest = rest[1:]
                break
            if found == PHRASE:
                valid = word
        else:
            if not valid:
                out.extend(rest)
                break
            out.append(valid)
            rest = rest[len(valid):]
    return out


_HAN_RUN = re.compile("([%s]+)" % "".join(f"\\U{first:08x}-\\U{last:08x}"
                                          for first, last in _HAN_RANGES))


@lru_cache(maxsize=1024)
def _other_piece(char: str) -> tuple[str, str]:
    kept = _keep_char(char)
    return kept, kept


@lru_cache(maxsize=4096)  # titles are made of words that recur
def _run_pieces(run: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The pieces of a run of Chinese characters, and the phrases of two characters or more
    it was cut into."""
    words = _dictionary()
    pieces: list[tuple[str, str]] = []
    phrases: list[str] = []
    for word in _cut(run, words):
        reading = words.reading(word)
        if reading is not None:
            pieces += [words.forms[ord(n)] for n in reading]
            if len(word) > 1:
                phrases.append(word)
        else:
            for char in word:
                number = words.number(char)
                kept = _keep_char(char)
                pieces.append(words.forms[number] if number else (kept, kept))
    return tuple(pieces), tuple(phrases)


def _keep_char(char: str) -> str:
    if char.isascii():
        return char.lower() if char.isalnum() else ""
    return _keep(char)  # some lower-case to Latin letters: the Kelvin sign, İ


def _keep(piece: str) -> str:
    return "".join(c for c in piece.lower() if c.isascii() and c.isalnum())


@dataclass(frozen=True)
class Forms:
    spelled: str  # 红楼梦 -> "hongloumeng"
    initials: str  # 红楼梦 -> "hlm"
    # Where each later syllable's forms start in `spelled` and `initials`, pair by pair:
    # 红楼梦 -> (4, 7) and (1, 2), for "loumeng" "lm" and "meng" "m".
    spelled_at: tuple[int, ...] = ()
    initials_at: tuple[int, ...] = ()
    phrases: tuple[str, ...] = ()  # dictionary phrases read as one: ("银行",) in 银行的故事

    @property
    def inner(self) -> frozenset[tuple[str, str]]:
        """The forms from each later syllable: ("loumeng", "lm"), ("meng", "m")."""
        return frozenset((self.spelled[at:], self.initials[initial_at:])
                         for at, initial_at in zip(self.spelled_at, self.initials_at))


@dataclass(frozen=True, slots=True)
class _Part:
    """The forms of one part of a text (a run of Chinese characters, or of other characters),
    to be joined with its neighbours': later syllables are found within it, and its first
    character is one if the part before ends in a way that allows it (see `read`)."""
    spelled: str
    initials: str
    spelled_at: tuple[int, ...]  # later syllables after its first character, in the part
    initials_at: tuple[int, ...]
    phrases: tuple[str, ...]
    whole: bool  # a piece per character: syllable boundaries can be trusted
    first: bool  # its first character has a spelling
    first_han: bool
    last_han: bool
    last_spelled: bool  # its last character has a spelling


@lru_cache(maxsize=4096)  # titles are made of words that recur
def _part(text: str, run: bool) -> _Part:
    """The forms of a run of Chinese characters (`run`) or of other characters."""
    if run:
        run_pieces, phrases = _run_pieces(text)
        pieces = list(run_pieces)
    else:
        pieces, phrases = list(map(_other_piece, text)), ()
    spelled_pieces = [p[0] for p in pieces]
    initial_pieces = [p[1] for p in pieces]
    whole = len(pieces) == len(text)
    spelled_at: tuple[int, ...] = ()
    initials_at: tuple[int, ...] = ()
    if whole:
        han = list(map(_is_han, text))
        later = [i for i in range(1, len(text)) if spelled_pieces[i] and (
            han[i] or han[i - 1] or not spelled_pieces[i - 1])]
        at = list(accumulate(map(len, spelled_pieces), initial=0))
        initial_at = list(accumulate(map(len, initial_pieces), initial=0))
        spelled_at = tuple(map(at.__getitem__, later))
        initials_at = tuple(map(initial_at.__getitem__, later))
    return _Part("".join(spelled_pieces), "".join(initial_pieces), spelled_at, initials_at,
                 tuple(phrases), whole, bool(spelled_pieces and spelled_pieces[0]),
                 _is_han(text[0]), _is_han(text[-1]), bool(whole and spelled_pieces[-1]))


@lru_cache(maxsize=256)  # the catalogue writer keeps each field it read (catalogue_parts)
def read(text: str) -> Forms:
    """All pinyin forms of `text` from one reading, joined from its parts' (`_part`): a
    later syllable is a piece with a spelling, after a Chinese character, or a Chinese
    character itself, or after a piece without one (the middle of a Latin word is not)."""
    spelled: list[str] = []
    initials: list[str] = []
    spelled_at: list[int] = []
    initials_at: list[int] = []
    phrases: list[str] = []
    whole = True
    at = initial_at = 0
    last = None  # the part before
    # Split at runs of Chinese characters, found by one regular expression rather than a
    # test per character: the parts alternate, other characters first.
    for number, text_part in enumerate(_HAN_RUN.split(text)):
        if not text_part:
            continue
        part = _part(text_part, number % 2 == 1)
        whole = whole and part.whole
        if whole:
            if last is not None and part.first and (
                    part.first_han or last.last_han or not last.last_spelled):
                spelled_at.append(at)
                initials_at.append(initial_at)
            spelled_at += map(at.__add__, part.spelled_at)
            initials_at += map(initial_at.__add__, part.initials_at)
        spelled.append(part.spelled)
        initials.append(part.initials)
        phrases += part.phrases
        at += len(part.spelled)
        initial_at += len(part.initials)
        last = part
    if not whole:  # no syllable boundaries we can trust
        spelled_at, initials_at = [], []
    return Forms("".join(spelled), "".join(initials), tuple(spelled_at), tuple(initials_at),
                 tuple(phrases))


def phrase_initials(phrase: str) -> str:
    """The initials of a phrase of the dictionary ("银行" -> "yh"), as read(phrase) gives."""
    words = _dictionary()
    return "".join(words.forms[ord(n)][1] for n in words.reading(phrase) or "")


@lru_cache(maxsize=2)
def char_initials(first: int, last: int) -> dict[str, str]:
    """Each character from `first` to `last` that has a reading, and its initial read alone:
    read(char).initials for each, without reading them one by one."""
    words = _dictionary()
    out = {}
    for code in range(first, last + 1):
        char = chr(code)
        if not words.han(char):
            continue
        phrase = words.reading(char)  # a one-character phrase reads as the phrase
        number = ord(phrase[0]) if phrase else words.number(char)
        if number and words.forms[number][1]:
            out[char] = words.forms[number][1]
    return out


def spelled(text: str) -> str:
    """红楼梦 -> "hongloumeng"; "三体 III" -> "santiiii"."""
    return read(text).spelled


def initials(text: str) -> str:
    """红楼梦 -> "hlm": the first letter of each Chinese syllable, Latin words and digits kept
    whole ("Python编程" -> "pythonbc")."""
    return read(text).initials


def inner(text: str) -> set[tuple[str, str]]:
    """(spelling, initials) from each syllable or Latin word after the first: 中国通史 ->
    {("guotongshi", "gts"), ("tongshi", "ts"), ("shi", "s")}."""
    return set(read(text).inner)


def _is_han(char: str) -> bool:
    """A character pypinyin reads as one syllable (CJK ideographs, any block)."""
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000"
