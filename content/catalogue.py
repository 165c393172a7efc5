"""The catalogue of one version folder: an SQLite file written once when a batch is applied
(content/catalogue_write.py), then read by the kiosk's e-book screens and its download server.

Search runs at every key a patron types on the on-screen keyboard, so everything it matches on
is computed at write time and nothing at search time needs a dictionary (pypinyin is never
imported here): for each title, a row per search term (the title, its pinyin initials and
spelling, the same for the author, the ISBN's digits and its ISBN-10), pinyin from each later
syllable too ("loumeng", "lm" for 红楼梦, never from inside one), every character and pair of
characters ("梦", "楼梦"), an FTS5 trigram index for three characters or more, and each
character's initial for a query like "红l". Titles are numbered in shelf order and every table
is keyed by that number, so each match tier is one index range scan that yields titles in the
order shown and stops after the results a screen shows; no query scans the titles.

Ranking: exact, then prefix, then pinyin from a later syllable, then contains (title before
author), then characters followed by initials ("红l"); within those, title before author
before ISBN, then in the order of the matched term (pinyin order for pinyin, so 红楼梦 comes
before 红楼梦魇), then shelf order.

Characters are matched folded to simplified (content/fold.py): the file keeps the folding table
it was written with, and the query is folded with it. Files of formats 1 and 2 still open and
search as they did (content/legacy_search.py), except that "红l" finds only what its text
finds; the next batch applied writes format 3.

A title's publisher, optional in batches, is kept in a table of its own (`publishers`, a row
only for a title that names one), so a file written before it opens as it did (no
publishers), and a kiosk booted back into an older release still copies `titles` row for row.

A `Catalogue` is read-only (the file is opened with mode=ro, immutable and query_only: a
version's file never changes once published) and belongs to the thread that opened it; the
download server opens its own.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Iterator

from common.categories import CATEGORIES
from content.catalogue_terms import (
    AUTHOR,
    INNER_KINDS,
    ISBN,
    KINDS,
    PREFIXES_ONLY,
    TITLE,
    counted,
    counted_digits,
    digits,
    squash,
    starts_with,
)
from content.errors import ContentError
from content.legacy_search import LegacySearch
from content.title import Title

FILE_NAME = "catalogue.sqlite3"
SCHEMA_VERSION = 3
READABLE = (1, 2, 3)  # 1: no later-syllable terms, no folding table; 2: no grams, initials
FIELDS = ("id", "isbn", "title", "author", "category", "summary", "cover", "file", "size",
          "sha256", "format", "valid_from", "valid_until", "added")
MAX_QUERY = 64
COUNT_CAP = 1000  # titles counted at search time at most; past it, "more than 1000"
_PHRASE = 4  # the longest phrase looked up in `initials` for a query like "银行d"
SHORT = 2  # up to this many characters, contains-matches come from `grams`; then trigrams
_ISBN_LIKE = re.compile(r"^[0-9][0-9xX\- ]*$")
_MIXED = re.compile(r"^([\u3400-\u9fff]+)([a-z]+)$")
_LICENSED = "t.valid_from <= :today AND t.valid_until >= :today"
# A title found, as a match tier yields it: its number, then the columns of its `Title` (read
# with the licence anyway, so the page needs no second lookup).
_ROW = ", ".join(["n", *(f"t.{field}" for field in FIELDS)])
# A match tier over `terms k`: licensed titles in term then shelf order, stopping at :limit.
_TIER = ("SELECT k.n AS " + _ROW + " FROM terms k JOIN titles t ON t.rowid = k.n WHERE "
         "k.kind = {kind} AND {condition} AND " + _LICENSED + " ORDER BY k.term, k.n "
         "LIMIT {limit}")
_EXACT = "k.term = :term"
_LONGER = "k.term > :term AND k.term < :term || char(1114111)"


def write_catalogue(db_path: Path, titles: Iterable[Title], *, carried: Iterable[str] = (),
                    carried_from: Path | None = None) -> None:
    """See content/catalogue_write.py (imported on use: it reads pinyin)."""
    from content.catalogue_write import write_catalogue as write
    write(db_path, titles, carried=carried, carried_from=carried_from)


class _HexCodes(dict[int, str]):
    """Code point -> its hex and a space, as str.translate looks it up: filled as met."""

    def __missing__(self, code: int) -> str:
        self[code] = hexed = f"{code:x} "
        return hexed


_HEX_CODES = _HexCodes()


def hex_chars(text: str) -> str:
    """"红楼" -> "7ea2 697c": the tokens of the `chars` table. One str.translate, not a format
    per character: the build fills the table with two of these a title."""
    return text.translate(_HEX_CODES)[:-1]


def _has_table(db: sqlite3.Connection, schema: str, name: str) -> bool:
    return db.execute(f"SELECT count(*) FROM {schema}.sqlite_master WHERE type = 'table' "
                      "AND name = ?", (name,)).fetchone()[0] > 0


def _format(path: Path) -> int:
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


@dataclass(frozen=True)
class Found:
    """How many licensed titles a query finds: `titles`, or more than that when `more` (the
    count stopped there)."""
    titles: int
    more: bool = False


class Catalogue:
    def __init__(self, db: sqlite3.Connection, folder: Path, version: int = SCHEMA_VERSION) -> None:
        self._db = db
        self.folder = folder
        # Formats 1 and 2 are searched as they were; titles are in shelf order by rowid from 3.
        self._legacy = LegacySearch(db, version) if version < 3 else None
        self._order = "sort_key" if version < 3 else "rowid"
        self._fold: dict[int, str] = {} if version < 2 else {
            ord(traditional): simple
            for traditional, simple in db.execute("SELECT traditional, simplified FROM folds")}
        # Counts kept in the file (format 3, titles in few licence windows).
        self._counts = version >= 3 and db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM counts LIMIT 1)").fetchone()[0] > 0
        # Asked for only when the file names any publisher at all.
        self._publishers = _has_table(db, "main", "publishers") and db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM publishers LIMIT 1)").fetchone()[0] > 0

    @classmethod
    def open(cls, version_dir: Path) -> "Catalogue":
        path = Path(version_dir).resolve() / FILE_NAME
        if not path.is_file():
            raise ContentError(f"no e-book catalogue at {path}")
        try:
            # immutable: the file is written whole before its version folder is published and
            # never changed after, so SQLite may skip the file lock and the change check it
            # makes at each statement (6 of a 3+ character query's 20 µs at 20,000 titles).
            db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
            db.execute("PRAGMA query_only = ON")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute("SELECT count(*) FROM titles").fetchone()
        except sqlite3.DatabaseError as e:
            raise ContentError(f"the e-book catalogue {path} cannot be read: {e}") from None
        if version not in READABLE:
            db.close()
            raise ContentError(f"the e-book catalogue {path} has format {version}, "
                               f"this kiosk reads {', '.join(map(str, READABLE))}")
        return cls(db, path.parent, version)

    def close(self) -> None:
        self._db.close()

    # --- shelves --------------------------------------------------------------------------

    def categories(self, today: str) -> list[tuple[str, int]]:
        counts = dict(self._db.execute(
            "SELECT category, count(*) FROM titles WHERE valid_from <= ?1 AND valid_until >= ?1 "
            "GROUP BY category", (today,)))
        return [(key, counts[key]) for key in CATEGORIES if counts.get(key)]

    def count(self, category: str | None, today: str) -> int:
        where, args = _shelf(category, today)
        return self._db.execute(f"SELECT count(*) FROM titles WHERE {where}", args).fetchone()[0]

    def browse(self, category: str | None, today: str, offset: int = 0,
               limit: int = 60) -> list[Title]:
        where, args = _shelf(category, today)
        return self._titles(f"SELECT {_COLUMNS} FROM titles WHERE {where} "
                            f"ORDER BY {self._order} LIMIT ? OFFSET ?", (*args, limit, offset))

    def new_titles(self, today: str, limit: int = 60) -> list[Title]:
        """Titles the newest batch brought: "new this month"."""
        return self._titles(
            f"SELECT {_COLUMNS} FROM titles WHERE added = (SELECT max(added) FROM titles) "
            f"AND valid_from <= ? AND valid_until >= ? ORDER BY {self._order} LIMIT ?",
            (today, today, limit))

    def popular(self, counts: dict[str, int], today: str, limit: int = 60) -> list[Title]:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        found: list[Title] = []
        for start in range(0, len(ranked), 500):  # ids per query, within SQLite's limits
            ids = [title_id for title_id, _n in ranked[start:start + 500]]
            rows = {t.id: t for t in self._titles(
                f"SELECT {_COLUMNS} FROM titles WHERE id IN ({', '.join('?' * len(ids))}) "
                "AND valid_from <= ? AND valid_until >= ?", (*ids, today, today))}
            found += [rows[title_id] for title_id in ids if title_id in rows]
            if len(found) >= limit:
                break
        return found[:limit]

    def get(self, title_id: str, today: str) -> Title | None:
        rows = self._titles(f"SELECT {_COLUMNS} FROM titles WHERE id = ? AND valid_from <= ? "
                            "AND valid_until >= ?", (title_id, today, today))
        return rows[0] if rows else None

    def all_titles(self) -> Iterator[Title]:
        """Every title, licensed today or not: what the next version starts from."""
        publishers = dict(self._db.execute("SELECT id, publisher FROM publishers")) \
            if self._publishers else {}
        for row in self._db.execute(f"SELECT {_COLUMNS} FROM titles ORDER BY id"):
            title = Title(*row)
            yield replace(title, publisher=publishers[title.id]) if title.id in publishers \
                else title

    # --- search ---------------------------------------------------------------------------

    def search(self, query: str, today: str, limit: int = 60) -> list[Title]:
        """Titles matching what was typed: characters, pinyin initials or spelling from any
        syllable, author, ISBN-13 or ISBN-10 digits (hyphens or not); best first. Each tier
        stops at its own limit, so one typed letter matching half the catalogue costs no more
        than a precise query."""
        term, text = self._typed(query)
        if not term:
            return []
        if self._legacy is not None:
            return self._by_keys("id", self._legacy.ids(term, text, today, limit))
        (first, *later), args = self._tiers(term, text, today, limit)
        found: list[Title] = []
        seen: set[int] = set()
        present = _take(self._db.execute(first, args), found, seen, limit)
        for tier, sql in enumerate(later):
            if len(found) >= limit:
                break  # the later tiers are never run
            if present >> tier & 1:  # a tier with no term in its range is not run either
                _take(self._db.execute(sql, args), found, seen, limit)
        return self._with_publishers(found)

    def search_count(self, query: str, today: str) -> int:
        """How many licensed titles `search` would find with no limit, exactly."""
        return self.found(query, today, cap=None).titles

    def found(self, query: str, today: str, cap: int | None = COUNT_CAP) -> Found:
        """How many licensed titles `search` would find with no limit: the number a screen
        shows above the first page ("找到 134 本，显示前 60 本"). Exact when the file holds it;
        otherwise counted now, and with `cap` the counting stops after `cap` titles (then
        `more`: "more than `cap`"), so a query matching much of a large catalogue costs no
        more than `cap` rows read."""
        term, text = self._typed(query)
        if not term:
            return Found(0)
        if self._legacy is not None:
            return Found(self._legacy.count(term, text, today))
        args: dict[str, object] = {"term": term, "today": today}
        if self._counts and term == text and counted(term):  # counted when written
            return Found(self._counted(term, today))
        if self._counts and counted_digits(term) and not self._db.execute(  # ISBN, hyphens
                f"SELECT EXISTS ({self._anywhere(text, args)})",
                args).fetchone()[0]:
            return Found(self._counted(PREFIXES_ONLY + term, today))
        parts = self._matching(term, text, args)
        if cap is None:
            found = " UNION ALL ".join(f"SELECT {n} FROM {source} WHERE {where}"
                                       for source, n, where in parts)
            return Found(int(self._db.execute(
                f"SELECT count(*) FROM titles t WHERE t.rowid IN ({found}) AND {_LICENSED}",
                args).fetchone()[0]))
        # Each part's licensed titles as the index yields them, read until `cap` + 1 differ.
        rows = self._db.execute(" UNION ALL ".join(
            f"SELECT {n} FROM {source} JOIN titles t ON t.rowid = {n} WHERE {where} AND "
            f"{_LICENSED}" for source, n, where in parts), args)
        seen: set[int] = set()
        for (n,) in rows:
            seen.add(n)
            if len(seen) > cap:
                break
        rows.close()
        return Found(min(len(seen), cap), more=len(seen) > cap)

    def _matching(self, term: str, text: str,
                  args: dict[str, object]) -> list[tuple[str, str, str]]:
        """Every title `search` can find, in no order and with repeats, as parts of a query:
        (source, its title number, condition)."""
        kinds = ", ".join(map(str, _could_match(term)))
        parts = [("terms k", "k.n", f"k.kind IN ({kinds}) AND {starts_with(':term')}"),
                 self._anywhere_part(text, args)]
        if self._mixed(term, args):
            kinds = ", ".join(map(str, _could_match(str(args["mixed"]))))
            parts.append(("terms k", "k.n", f"k.kind IN ({kinds}) AND {starts_with(':mixed')}"))
        return parts

    def _counted(self, key: str, today: str) -> int:
        return int(self._db.execute(
            "SELECT coalesce(sum(titles), 0) FROM counts WHERE key = ?1 "
            "AND valid_from <= ?2 AND valid_until >= ?2", (key, today)).fetchone()[0])

    def _typed(self, query: str) -> tuple[str, str]:
        """What a query is matched as: the term (squashed, or ISBN digits) and the text for
        substrings, both folded to simplified characters."""
        query = query.strip()[:MAX_QUERY].translate(self._fold)
        term = digits(query) if _ISBN_LIKE.match(query) else squash(query)
        return term, query.lower()

    def _tiers(self, term: str, text: str, today: str,
               limit: int | None) -> tuple[tuple[str, ...], dict[str, object]]:
        """The statements of every match tier in ranking order, each tier with its own limit
        (none: every match). SQLite makes the rows as they are read, and a caller that has
        its page runs no later statement."""
        phrase = _phrase(text)
        args: dict[str, object] = {"term": term, "today": today,
                                   "limit": -1 if limit is None else limit,
                                   "wide": -1 if limit is None else 2 * limit,
                                   "in_title": f"title : {phrase}",
                                   "in_author": f"author : {phrase}"}
        mixed = _could_match(str(args["mixed"])) if self._mixed(term, args) else ()
        return _tiers_sql(_could_match(term), _table(text), mixed), args

    def _mixed(self, term: str, args: dict[str, object]) -> bool:
        """For characters then letters ("红l"): binds :mixed to the characters' initials then
        the letters ("hl"), if the file has a reading for each character."""
        mixed = _MIXED.match(term)
        initials = self._initials(mixed.group(1)) if mixed else None
        if mixed is None or initials is None:
            return False
        args["mixed"] = initials + mixed.group(2)
        return True

    def _anywhere(self, text: str, args: dict[str, object]) -> str:
        """Every title whose title or author contains the text typed, in no order."""
        source, n, where = self._anywhere_part(text, args)
        return f"SELECT {n} FROM {source} WHERE {where}"

    @staticmethod
    def _anywhere_part(text: str, args: dict[str, object]) -> tuple[str, str, str]:
        """`_anywhere` as a part of `_matching`: from the `chars` table for one or two
        characters, the trigrams for more."""
        args["anywhere"] = _phrase(text)
        table = _table(text)
        return f"{table} w", "w.rowid", f"{table} MATCH :anywhere"

    def _initials(self, chars: str) -> str | None:
        """The pinyin initials of `chars` from the file's table: the longest phrase there at
        each place (as the titles were read), else the character read alone; None when a
        character has no reading there."""
        pieces = [chars[start:end] for start in range(len(chars))
                  for end in range(start + 1, min(len(chars), start + _PHRASE) + 1)]
        known = dict(self._db.execute(
            f"SELECT text, initials FROM initials WHERE text IN ({', '.join('?' * len(pieces))})",
            pieces))
        out, start = [], 0
        while start < len(chars):
            longest = next((end for end in range(min(len(chars), start + _PHRASE), start, -1)
                            if chars[start:end] in known), None)
            if longest is None:
                return None
            out.append(known[chars[start:longest]])
            start = longest
        return "".join(out)

    def _by_keys(self, column: str, keys: list) -> list[Title]:
        """The titles with these ids or rowids, in the keys' order."""
        if not keys:
            return []
        rows = {row[0]: Title.from_row(row[1:]) for row in self._db.execute(
            f"SELECT {column}, {_COLUMNS} FROM titles WHERE {column} IN "
            f"({', '.join('?' * len(keys))})", keys)}
        return self._with_publishers([rows[key] for key in keys if key in rows])

    def _titles(self, sql: str, args: tuple | list) -> list[Title]:
        return self._with_publishers(
            [Title.from_row(row) for row in self._db.execute(sql, args)])

    def _with_publishers(self, titles: list[Title]) -> list[Title]:
        if not self._publishers or not titles:
            return titles
        publishers: dict[str, str] = {}
        for start in range(0, len(titles), 500):  # ids per query, within SQLite's limits
            ids = [t.id for t in titles[start:start + 500]]
            publishers.update(self._db.execute(
                f"SELECT id, publisher FROM publishers WHERE id IN ({', '.join('?' * len(ids))})",
                ids))
        return [replace(t, publisher=publishers[t.id]) if t.id in publishers else t
                for t in titles]


_COLUMNS = ", ".join(FIELDS)


def _take(rows: sqlite3.Cursor, found: list[Title], seen: set[int], limit: int) -> int:
    """Titles from a tier's rows onto the page, each once, until it holds `limit`: rows are
    made as they are read, so a full page stops the statement. The first statement ends with
    a row of no title (id NULL) whose number says which later tiers to run: returned when
    read (every tier's bit set otherwise)."""
    present = -1
    for row in rows:
        if row[1] is None:
            present = row[0]
        elif row[0] not in seen:
            seen.add(row[0])
            found.append(Title.from_row(row[1:]))
            if len(found) >= limit:
                break
    rows.close()
    return present


def _table(text: str) -> str:
    """Where titles containing `text` are looked up: one or two characters in `chars`, more
    in the trigrams (`words`)."""
    return "chars" if len(text) <= SHORT else "words"


def _phrase(text: str) -> str:
    """`text` as one FTS5 phrase of the table `_table` names."""
    if len(text) <= SHORT:
        return '"' + hex_chars(text) + '"'
    return '"' + text.replace('"', '""') + '"'  # quotes are text


def _could_match(term: str) -> tuple[int, ...]:
    """The kinds of term a query term can match, in ranking order: pinyin and ISBN terms are
    Latin letters and digits, and an ISBN's start with a digit. Asking only these saves a
    dozen empty index lookups per key for a query of characters."""
    if not term.isascii():
        return (TITLE, AUTHOR)
    return _LATIN_KINDS if term[:1].isdigit() else _LATIN_KINDS_NO_ISBN


_LATIN_KINDS = (*KINDS, *INNER_KINDS)
_LATIN_KINDS_NO_ISBN = tuple(kind for kind in _LATIN_KINDS if kind != ISBN)


@functools.lru_cache(maxsize=32)
def _tiers_sql(kinds: tuple[int, ...], table: str, mixed: tuple[int, ...]) -> tuple[str, ...]:
    """The statements of `Catalogue._tiers` for the kinds a term can match, the table its
    text is looked up in, and (for "红l") the kinds its initials can match: a handful of
    shapes, made once, so a keystroke neither builds the text nor prepares it again.

    The exact matches, rarely more than a few titles, are one statement, and it ends with a
    row (id NULL) whose number has a bit for each later statement: set when the tier has any
    term in its range (licensed or not: a lookup in the index, not a read of titles; the
    titles containing the text, an FTS5 query, always). So a query finding few titles runs
    two statements, not one per kind of term. Each later tier is a statement of its own, so
    its rows come straight from the index, not through a subquery of a compound (a fifth of
    a full page's time)."""
    found = (f"SELECT w.rowid AS {_ROW} FROM {table} w JOIN titles t ON t.rowid = w.rowid "
             f"WHERE {table} MATCH {{pattern}} AND {_LICENSED} ORDER BY w.rowid")
    # Titles whose title, then author contains the text typed. A title whose title and author
    # both do comes twice and is taken once (the first time: as the title's); with no limit
    # here the page takes the same titles as a query of those whose author alone does would
    # give (two FTS5 lookups, not three), as the rows are read only until the page is full.
    containing = (f"SELECT * FROM ({found.format(pattern=':in_title')}) "
                  f"UNION ALL SELECT * FROM ({found.format(pattern=':in_author')})")
    exact = [_TIER.format(kind=kind, condition=_EXACT, limit=":limit")
             for kind in kinds if kind in KINDS]
    # Each later tier: (kind, the condition on its terms), or None for `containing`.
    later: list[tuple[int, str] | None] = [
        *((kind, _LONGER) for kind in kinds if kind in KINDS),
        *((kind, starts_with(":term")) for kind in kinds if kind in INNER_KINDS),
        None,
        *((kind, starts_with(":mixed")) for kind in mixed)]
    present = " + ".join(
        f"{1 << bit}" if tier is None else
        f"EXISTS (SELECT 1 FROM terms k WHERE k.kind = {tier[0]} AND {tier[1]}) * {1 << bit}"
        for bit, tier in enumerate(later))
    probe = f"SELECT {present} AS n, " + ", ".join(["NULL"] * len(FIELDS))
    return (" UNION ALL ".join([*(f"SELECT * FROM ({tier})" for tier in exact), probe]),
            *(containing if tier is None else
              _TIER.format(kind=tier[0], condition=tier[1], limit=":wide") for tier in later))


def _shelf(category: str | None, today: str) -> tuple[str, tuple]:
    where = "valid_from <= ? AND valid_until >= ?"
    if category is None:
        return where, (today, today)
    return "category = ? AND " + where, (category, today, today)
