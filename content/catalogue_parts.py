"""What each field of a title (its title, its author, its ISBN) adds to a catalogue being
written: its search terms, packed, and the counted queries (catalogue_terms.counted) that find
it. Runs on the thread building the catalogue (content/catalogue_write.py), but for
`title_keys` and `Tally`, which run on its counting thread (content/catalogue_counting.py).

A title's terms and keys are the union of its fields': each term comes from one field (its
kind says which), and each key from one term or one field's text. So a field is read once per
distinct text and the result kept while the build runs: titles share authors, series names
and words, and pinyin is the slow part. Key strings are shared between the fields that have
them, so a kept field costs little more than its set of keys.

A title is the exception, being long and rarely the same twice: its later-syllable terms are
kept as offsets into its spelling and initials (the writer's SQL cuts them), and its pinyin
keys, some eighty, are made from those offsets as it is counted, not kept, until the title
is read again: then they are kept, and added up by field as other fields' are.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from functools import lru_cache
from json.encoder import encode_basestring
from operator import invert, itemgetter, methodcaller, mul
from typing import Callable, Iterable, Iterator

from content.catalogue_terms import (
    AUTHOR,
    AUTHOR_INITIALS,
    AUTHOR_INNER_INITIALS,
    AUTHOR_INNER_SPELLED,
    AUTHOR_SPELLED,
    COUNTED_DIGITS,
    COUNTED_LETTERS,
    ISBN,
    PREFIXES_ONLY,
    TITLE,
    TITLE_INITIALS,
    TITLE_INNER_INITIALS,
    TITLE_INNER_SPELLED,
    TITLE_SPELLED,
    counted,
    digits,
    squash,
)
from content.pinyin import Forms, phrase_initials, read

_NATIONALITY = re.compile(r"^\s*[\[［【(（][^\]］】)）]{1,6}[\]］】)）]\s*")  # "[英] 狄更斯"
PACKED_KIND = ord("A")  # a packed term's first character: SQL unpacks with unicode(term) - this
_DIGIT_RUN = re.compile(f"[0-9]{{1,{COUNTED_DIGITS}}}")
_LATIN_RUN = re.compile(r"[0-9a-z]{2,}")
_KEY_PREFIX = COUNTED_DIGITS + 1  # the keys of a packed term depend on this much of it at most


def pack(kind: int, term: str) -> str:
    """A term as one string, its kind a letter in front: (1, "hlm") -> "Bhlm"."""
    return chr(PACKED_KIND + kind) + term


def unpack(packed: str) -> tuple[int, str]:
    return ord(packed[0]) - PACKED_KIND, packed[1:]


@dataclass(frozen=True, slots=True)
class Field:
    """One field's share of a title's rows."""
    folded: str  # the text folded to simplified, lower case: the character and trigram tables
    # Its packed terms as the items of a JSON array ('"Bhlm","Chongloumeng"'); a title's
    # later-syllable terms as offsets: n in `spelled`, ~n in `initials` (inner_terms).
    terms: str
    # The counted queries it answers (a tuple: a quarter of a set's size); a title's made on
    # use (title_keys) until it is read again.
    keys: tuple[str, ...]
    spelled: str = ""  # a title's pinyin: its place on the shelf
    initials: str = ""  # a title's initials: its later-syllable terms are cut from them
    # Where a title's pinyin terms start in `spelled` and `initials`: their keys' windows.
    spelled_from: tuple[int, ...] = ()
    initials_from: tuple[int, ...] = ()
    whole: bool = True  # `keys` are all its keys; a title's are made whole when read again


class Fields:
    """Each field of the titles of one build, read once per distinct text (within `kept`)."""

    KEPT = 4096  # distinct titles kept read, and twice as many authors: an author's field is
    # a few keys, and a library's authors recur (5,000 in the benchmark's 200,000 titles)

    def __init__(self, fold: dict[int, str], kept: int | None = None) -> None:
        kept = self._kept = self.KEPT if kept is None else kept
        self.fold = fold
        self.chars: set[str] = set()  # every character of the folded texts
        self.phrases: dict[str, str] = {}  # folded phrase -> initials, as texts were read
        self._phrases_read: set[str] = set()  # the phrases behind them, as written
        self._shared: dict[str, str] = {}  # one string object per key
        self.title = _Kept(self._title, kept, again=self._whole_title)
        self.author = _Kept(self._author, 2 * kept)
        self._isbn_keys = lru_cache(maxsize=kept)(self._term_keys)

    def forget(self, *, everything: bool = False) -> None:
        """Drop the fields kept read, and with `everything` the characters and phrases."""
        self.title = _Kept(self._title, self._kept, again=self._whole_title)
        self.author = _Kept(self._author, 2 * self._kept)
        self._isbn_keys.cache_clear()
        self._shared.clear()
        _start_keys.cache_clear()
        if everything:
            self.chars.clear()
            self.phrases.clear()
            self._phrases_read.clear()

    def isbn(self, isbn: str) -> Field:
        """An ISBN's field: ISBN-13 digits and ISBN-10, its keys looked up by their starts."""
        whole = isbn if isbn.isdigit() and isbn.isascii() else digits(isbn)  # mostly digits
        if not whole:
            return Field("", "", ())
        # Its terms written out, not packed by a loop: every ISBN differs (3.7 µs an ISBN,
        # now 2.3). [0-9x]: nothing to escape in JSON.
        thirteen, ten = _PACKS[ISBN] + whole, isbn_10(whole)
        if not ten:
            return Field("", f'"{thirteen}"', self._isbn_keys((_start(thirteen),)))
        ten = _PACKS[ISBN] + ten
        return Field("", f'"{thirteen}","{ten}"',
                     self._isbn_keys((_start(thirteen), _start(ten))))

    def _title(self, text: str) -> Field:
        """The title's written, initials and spelled terms; its later-syllable terms as their
        offsets in the whole spelling (n) and initials (~n), cut by SQL (catalogue_write):
        the suffixes of a long title are most of its terms and of their letters."""
        name = self._read(text)
        spelled, initials = name.spelled, name.initials
        folded = text.translate(self.fold).lower()  # translated once for both: 1 µs
        squashed = squash(folded)
        written = {_PACKS[TITLE] + squashed} if squashed else set()
        items = list(map(encode_basestring, written))  # json.dumps(term), less its setup
        items += [f'"{term}"' for term in (_PACKS[TITLE_INITIALS] + initials,
                                          _PACKS[TITLE_SPELLED] + spelled) if len(term) > 1]
        # Later syllables without initials of their own would repeat an initials term or
        # leave it empty: one term each.
        initials_at = set(name.initials_at)
        initials_at.discard(len(initials))
        offsets = [*map(str, name.spelled_at), *map(str, map(invert, initials_at))]
        if offsets:
            items.append(",".join(offsets))
        if _has_digit(spelled) or _has_digit(initials):  # keys of digits: see _start_keys
            return Field(folded, ",".join(items), self.keys(folded, written | _title_pinyin(name)),
                         spelled, initials)
        # Its keys are made as it is counted (title_keys), its characters kept here.
        self.chars.update(folded)
        return Field(folded, ",".join(items), (), spelled, initials,
                     (0, *name.spelled_at) if spelled else (),
                     (0, *initials_at) if initials else (), whole=False)

    def _whole_title(self, field: Field) -> Field:
        """A title read again, its keys made and kept: it may recur many times."""
        if field.whole:
            return field
        keys = self.keys(field.folded, (), _written_keys(field.folded), *_window_keys(
            field.spelled, field.initials, field.spelled_from, field.initials_from))
        return replace(field, keys=keys, spelled_from=(), initials_from=(), whole=True)

    def _author(self, text: str) -> Field:
        written: list[str] = []
        pinyin: list[tuple[int, Iterable[str]]] = []
        wholes: list[str] = []
        for author in {text, _NATIONALITY.sub("", text)}:
            forms = self._read(author)
            wholes += [forms.spelled, forms.initials]
            written.append(pack(AUTHOR, squash(author.translate(self.fold))))
            later_spelled, later_initials = _later(forms)
            pinyin += [(AUTHOR_INITIALS, (forms.initials,)), (AUTHOR_SPELLED, (forms.spelled,)),
                       (AUTHOR_INNER_SPELLED, later_spelled),
                       (AUTHOR_INNER_INITIALS, later_initials)]
        return self._field(text, written, pinyin, wholes)

    def _read(self, text: str) -> Forms:
        """The pinyin of `text`, and the initials of the phrases it was cut into kept."""
        forms = read(text)
        if not self._phrases_read.issuperset(forms.phrases):  # mostly: one C call
            for phrase in set(forms.phrases) - self._phrases_read:
                self._phrases_read.add(phrase)
                folded = phrase.translate(self.fold)
                if folded not in self.phrases:
                    self.phrases[folded] = phrase_initials(phrase)
        return forms

    def _field(self, text: str, written: Iterable[str],
               pinyin: Iterable[tuple[int, Iterable[str]]], spelled_and_initials: list[str],
               spelled: str = "") -> Field:
        """A field of the packed terms of its text as `written` (any character: escaped in
        JSON) and of its `pinyin` by kind (Latin letters and digits: nothing to escape).
        Terms are packed and their keys found by maps over them, not a loop per term:
        a title has some thirty terms."""
        folded = text.translate(self.fold).lower()
        packed: set[str] = set()
        for kind, terms in pinyin:
            packed.update(map(_PACKS[kind].__add__, terms))
        packed -= _EMPTY  # no empty terms
        written = set(written) - _EMPTY
        items = list(map(encode_basestring, written))  # json.dumps(term), less its setup
        if packed:
            items.append(f'"{_QUOTED.join(packed)}"')
        # A pinyin term is the end of a whole spelling or initials: digits in one are in these
        if any(map(_has_digit, spelled_and_initials)):
            keys = self.keys(folded, packed | written)
        else:  # what _start_keys gives for a start of letters: each of its starts
            starts = set(map(_first_letters, packed))
            keys = self.keys(folded, written, starts, *(map(first, starts) for first in _FIRST))
        return Field(folded, ",".join(items), keys, spelled)

    def keys(self, folded: str, packed: Iterable[str],
             *more: Iterable[str]) -> tuple[str, ...]:
        """The counted queries that find a title with this folded text and these terms (and
        the keys `more`)."""
        found = set(folded)
        self.chars.update(found)  # a term's Chinese characters are its text's
        found.update(*map(_start_keys, _starts(packed)), *more, _latin_keys(folded))
        shared = self._shared.setdefault  # one string object per key: titles hold keys
        return tuple(map(shared, found, found))

    def _term_keys(self, starts: Iterable[str]) -> tuple[str, ...]:
        return tuple(set().union(*map(_start_keys, starts)))


_PACKS = [chr(PACKED_KIND + kind) for kind in range(AUTHOR_INNER_INITIALS + 1)]
_EMPTY = frozenset(_PACKS)  # packed empty terms
_QUOTED = '","'
_first_letters = itemgetter(slice(1, COUNTED_LETTERS + 1))
_isbn_start = methodcaller("startswith", "97")
_has_digit = re.compile("[0-9]").search
_FIRST = [itemgetter(slice(0, size)) for size in range(1, COUNTED_LETTERS)]


def title_keys(folded: str, spelled: str, initials: str, spelled_from: tuple[int, ...],
               initials_from: tuple[int, ...]) -> set[str]:
    """The keys of a title read once (a Field not `whole`): its text's and its pinyin terms'
    (letters: each term's first 1 to COUNTED_LETTERS letters, from windows of the whole
    spelling and initials at `spelled_from` and `initials_from`). Made for each title as it is
    counted, not kept (titles rarely recur, and a long title has some eighty keys); a set, to
    be counted at once. A title read again gets them kept (`Fields._whole_title`): a tuple,
    added up by field (Tally)."""
    keys = set(folded)
    keys.update(_written_keys(folded), _latin_keys(folded),
                *_window_keys(spelled, initials, spelled_from, initials_from))
    return keys


def _written_keys(folded: str) -> tuple[str, ...]:
    """The keys the start of a title's text as written gives (a title with keys made on use
    has no digits: Fields._title)."""
    squashed = squash(folded)
    return _start_keys(squashed[:COUNTED_LETTERS]) if squashed else ()


def _window_keys(spelled: str, initials: str, spelled_from: tuple[int, ...],
                 initials_from: tuple[int, ...]) -> list[Iterable[str]]:
    """The keys of a title's pinyin terms: each window's first 1 to COUNTED_LETTERS letters."""
    windows = [spelled[at:at + COUNTED_LETTERS] for at in spelled_from]
    windows += [initials[at:at + COUNTED_LETTERS] for at in initials_from]
    return [windows, *(map(first, windows) for first in _FIRST)]


def _latin_keys(folded: str) -> list[str]:
    """The counted keys inside the text's runs of Latin letters and digits."""
    return [key for run in _LATIN_RUN.findall(folded) for size in range(2, COUNTED_DIGITS + 1)
            for start_at in range(len(run) - size + 1)
            if counted(key := run[start_at:start_at + size])]


def _title_pinyin(forms: Forms) -> set[str]:
    """A title's pinyin terms, packed, its later-syllable ones cut in Python."""
    later_spelled, later_initials = _later(forms)
    return {_PACKS[TITLE_INITIALS] + forms.initials, _PACKS[TITLE_SPELLED] + forms.spelled,
            *map(_PACKS[TITLE_INNER_SPELLED].__add__, later_spelled),
            *map(_PACKS[TITLE_INNER_INITIALS].__add__, later_initials)} - _EMPTY


def inner_terms(items: list[str | int], spelled: str, initials: str) -> Iterator[str]:
    """A title's staged JSON items with its offsets cut into packed later-syllable terms,
    as catalogue_write's SQL cuts them."""
    for item in items:
        if isinstance(item, str):
            yield item
        elif item >= 0:
            yield _PACKS[TITLE_INNER_SPELLED] + spelled[item:]
        else:
            yield _PACKS[TITLE_INNER_INITIALS] + initials[~item:]


def _later(forms: Forms) -> tuple[set[str], set[str]]:
    """The spellings and the initials from each later syllable."""
    if not forms.inner:
        return set(), set()
    spelled, initials = zip(*forms.inner)
    return set(spelled), set(initials)


def _starts(packed: Iterable[str]) -> set[str]:
    """set(map(_start, packed)), by C-level maps: the start of a term beginning 97 (an
    ISBN-13's digits, in a title) is longer, and is rare."""
    packed = packed if isinstance(packed, (set, frozenset)) else set(packed)
    starts = set(map(_first_letters, packed))
    if any(map(_isbn_start, starts)):
        starts = {start for start in starts if not start.startswith("97")}
        starts.update(_start(term) for term in packed if term.startswith("97", 1))
    return starts


class _Kept:
    """Fields read, kept by their text, the least recently used dropped first. Room grows
    (up to `most`) only while texts are read again soon after they were dropped: titles that
    are all different keep little, a catalogue whose authors recur keeps them."""

    FIRST = 256

    def __init__(self, read: Callable[[str], Field], most: int,
                 again: Callable[[Field], Field] | None = None) -> None:
        self._read = read
        self._again = again  # what a field found kept becomes: kept so in its place
        self._most = most
        self._room = min(self.FIRST, most)
        self._kept: OrderedDict[str, Field] = OrderedDict()
        self._dropped: set[int] = set()  # hashes of texts dropped since room last grew
        self._read_again = 0  # texts read again after they were dropped, since then

    def __call__(self, text: str) -> Field:
        kept = self._kept
        field = kept.get(text)
        if field is not None:
            kept.move_to_end(text)
            if self._again is not None:
                field = kept[text] = self._again(field)
            return field
        field = self._read(text)
        if self._room == 0:
            return field
        if hash(text) in self._dropped:
            self._read_again += 1
        kept[text] = field
        if len(kept) > self._room:
            if self._read_again * 4 > self._room and self._room < self._most:
                self._room = min(2 * self._room, self._most)  # room would have saved those
                self._dropped.clear()
                self._read_again = 0
            else:
                self._dropped.add(hash(kept.popitem(last=False)[0]))
                if len(self._dropped) > self._most:
                    self._dropped.clear()
        return field


class Tally:
    """How many titles each counted query finds, in one licence window. A title's keys are
    the union of its fields'; a field's keys are added up once per distinct field, by how
    many titles have it, less once for each key two fields of one title share."""

    FIELDS = 4096  # distinct fields held before their keys are added up

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._fields: Counter[tuple[str, ...]] = Counter()  # a field's keys: titles with it
        self._again: Counter[str] = Counter()  # a key found by a second field of a title

    def add(self, first: set[str] | tuple[str, ...], second: tuple[str, ...],
            third: tuple[str, ...]) -> None:
        """One title, of fields with these keys, added up by field; a set `first` (a title's
        read once) counted at once, and taken over."""
        fields = self._fields
        count = fields.get  # not +=: a Counter's missing key costs a Python call
        if isinstance(first, tuple):
            fields[first] = count(first, 0) + 1
            first = set(first)
        else:
            self.counts.update(first)
        fields[second] = count(second, 0) + 1
        fields[third] = count(third, 0) + 1
        again = first.intersection(second)
        if again:
            self._again.update(again)
        first.update(second)
        again = first.intersection(third)  # a key of all three fields is found twice again
        if again:
            self._again.update(again)
        if len(fields) > self.FIELDS:
            self._add_up()

    def total(self) -> Counter[str]:
        self._add_up()
        return self.counts

    def _add_up(self) -> None:
        counts = self.counts
        for keys, titles in self._fields.items():
            if titles == 1:
                counts.update(keys)
            else:
                for key in keys:
                    counts[key] += titles
        counts.subtract(self._again)
        self._fields.clear()
        self._again.clear()


def _start(packed: str) -> str:
    """As much of a packed term as its keys depend on, unpacked: its first COUNTED_LETTERS
    characters, or COUNTED_DIGITS for an ISBN-13's start."""
    return packed[1:_KEY_PREFIX] if packed.startswith("97", 1) else packed[1:COUNTED_LETTERS + 1]


@lru_cache(maxsize=8192)  # starts of pinyin terms and ISBNs recur across titles
def _start_keys(start: str) -> tuple[str, ...]:
    """The counted queries a term beginning with `start` answers: its first character, its
    start of two to four characters; for a start of digits (an ISBN's, mostly) each start up
    to COUNTED_DIGITS, and (PREFIXES_ONLY) each start."""
    if start.isascii() and start.isalnum():  # pinyin, mostly: every start of it
        keys = {start[:1], start[:2], start[:3], start[:COUNTED_LETTERS]}
    else:
        keys = {start[:1], *(key for key in (start[:2], start[:3]) if counted(key))}
    if start[:1].isdigit():
        run = _DIGIT_RUN.match(start)
        digits = run.group() if run else ""
        longest = len(digits) if digits.startswith("97") else min(len(digits), COUNTED_LETTERS)
        keys.update(digits[:end] for end in range(COUNTED_LETTERS + 1, longest + 1))
        keys.update(PREFIXES_ONLY + digits[:end] for end in range(1, longest + 1))
    return tuple(keys)


def isbn_10(digits: str) -> str:
    """The ISBN-10 of a 978 ISBN-13 ("x" for a check value of 10); "" for any other."""
    if len(digits) != 13 or not digits.startswith("978") or not digits.isdigit():
        return ""
    body = digits[3:12]
    if body.isascii():  # a sum looked up by three digits, not a product per digit (1.3 µs, 0.6)
        weighed = _WEIGHED[0][body[:3]] + _WEIGHED[1][body[3:6]] + _WEIGHED[2][body[6:]]
    else:
        weighed = sum(map(mul, map(int, body), range(10, 1, -1)))
    return body + _CHECK[-weighed % 11]


# Per three digits of an ISBN-10's body, their share of its weighed sum (weights 10 to 2).
_WEIGHED = [{f"{n:03}": sum(map(mul, map(int, f"{n:03}"), range(weight, weight - 3, -1)))
             for n in range(1000)} for weight in (10, 7, 4)]
_CHECK = [*"0123456789", "x"]
