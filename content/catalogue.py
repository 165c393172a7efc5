"""The catalogue of one version folder: an SQLite file written once when a batch is applied,
then read by the kiosk's e-book screens and its download server.

Search runs at every key a patron types on the on-screen keyboard, so everything it matches on
is computed at write time: for each title, a row per search term (the title, its pinyin
initials and spelling, the same for the author, the ISBN's digits and its ISBN-10), indexed so
that exact and prefix matches are index range scans that stop after the results a screen shows.
Pinyin from each later syllable is kept too ("loumeng", "lm" for 红楼梦), never from inside one.
Substrings of titles and authors ("楼梦") come from an FTS5 trigram index for three characters
or more, and a scan below that. Ranking: exact, then prefix, then pinyin from a later syllable,
then contains; within those, title before author before ISBN, then in the order of the matched
term (pinyin order for pinyin, so 红楼梦 comes before 红楼梦魇).

Characters are matched folded to simplified (content/fold.py): the file keeps the folding table
it was written with, and the query is folded with it. Format 1 files (no later syllables, no
table) still open and search as they did.

A title's publisher, optional in batches, is kept in a table of its own (`publishers`, a row
only for a title that names one), so a format-2 file written before it opens as it did (no
publishers), and a kiosk booted back into an older release still copies `titles` row for row.

A `Catalogue` is read-only (the file is opened with mode=ro and query_only) and belongs to the
thread that opened it; the download server opens its own.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator

from common.categories import CATEGORIES
from content.errors import ContentError
from content.title import Title

FILE_NAME = "catalogue.sqlite3"
SCHEMA_VERSION = 2
READABLE = (1, 2)  # format 1: no later-syllable terms, no folding table
FIELDS = ("id", "isbn", "title", "author", "category", "summary", "cover", "file", "size",
          "sha256", "format", "valid_from", "valid_until", "added")
# Term kinds, in ranking order within a match tier: those from the start, then (format 2)
# pinyin from a later syllable.
TITLE, TITLE_INITIALS, TITLE_SPELLED, AUTHOR, AUTHOR_INITIALS, AUTHOR_SPELLED, ISBN = range(7)
KINDS = range(7)
TITLE_INNER_SPELLED, TITLE_INNER_INITIALS, AUTHOR_INNER_SPELLED, AUTHOR_INNER_INITIALS = (
    range(7, 11))
INNER_KINDS = range(7, 11)


def _starts_with(param: str) -> str:
    """The condition on `terms k` for every term starting with the bound `param`."""
    return f"k.term >= {param} AND k.term < {param} || char(1114111)"


_PREFIX = _starts_with("?2")
TRIGRAM = 3  # the FTS5 trigram tokenizer matches substrings of at least this many characters
MAX_QUERY = 64
_NATIONALITY = re.compile(r"^\s*[\[［【(（][^\]］】)）]{1,6}[\]］】)）]\s*")  # "[英] 狄更斯"
_ISBN_LIKE = re.compile(r"^[0-9][0-9xX\- ]*$")
_MIXED = re.compile(r"^[\u3400-\u9fff]+[a-z]+$")

_SCHEMA = f"""
PRAGMA user_version = {SCHEMA_VERSION};
CREATE TABLE titles (
    id TEXT PRIMARY KEY, isbn TEXT, title TEXT, author TEXT, category TEXT, summary TEXT,
    cover TEXT, file TEXT, size INTEGER, sha256 TEXT, format TEXT,
    valid_from TEXT, valid_until TEXT, added TEXT,
    sort_key TEXT  -- the title's pinyin: the order of shelves and of equal search ranks
) WITHOUT ROWID;
CREATE INDEX titles_by_shelf ON titles (category, sort_key);
CREATE INDEX titles_by_added ON titles (added, sort_key);
CREATE INDEX titles_by_sort ON titles (sort_key);
CREATE TABLE terms (term TEXT NOT NULL, kind INTEGER NOT NULL, id TEXT NOT NULL);
CREATE INDEX terms_by_kind ON terms (kind, term, id);  -- id too: counts read only the index
CREATE VIRTUAL TABLE words USING fts5(id UNINDEXED, title, author, tokenize='trigram');
CREATE TABLE folds (traditional TEXT PRIMARY KEY, simplified TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE publishers (id TEXT PRIMARY KEY, publisher TEXT NOT NULL) WITHOUT ROWID;
"""


def write_catalogue(db_path: Path, titles: Iterable[Title], *, carried: Iterable[str] = (),
                    carried_from: Path | None = None) -> None:
    """Create the catalogue file with every search term computed; it must not exist yet.

    `carried` names titles unchanged since the catalogue file `carried_from`: their rows and
    search terms are copied from it, not computed again (pinyin is the slow part of a batch),
    unless it is of an older format: then they are computed as new titles are.
    """
    from content.fold import table, traditional_pairs
    if db_path.exists():
        raise ContentError(f"{db_path} exists already: a catalogue is written once")
    pairs = traditional_pairs()
    fold = table(pairs)
    db = sqlite3.connect(db_path)
    try:
        db.executescript(_SCHEMA)
        with db:
            db.executemany("INSERT INTO folds VALUES (?, ?)", pairs)
            for title in titles:
                _insert(db, title, fold)
        carried = list(carried)
        if carried and carried_from is not None:
            if _format(carried_from) == SCHEMA_VERSION:
                _copy_rows(db, carried, carried_from)
            else:
                _recompute_rows(db, set(carried), carried_from, fold)
        db.execute("ANALYZE")
    finally:
        db.close()


def _copy_rows(db: sqlite3.Connection, ids: list[str], source: Path) -> None:
    db.execute("ATTACH DATABASE ? AS old", (f"{Path(source).resolve().as_uri()}?mode=ro",))
    try:
        with db:
            db.execute("CREATE TEMP TABLE carried (id TEXT PRIMARY KEY)")
            db.executemany("INSERT INTO carried VALUES (?)", ((i,) for i in ids))
            tables = [("titles", "*"), ("terms", "term, kind, id"), ("words", "id, title, author")]
            if _has_table(db, "old", "publishers"):  # not in files written before publishers
                tables.append(("publishers", "id, publisher"))
            for table, columns in tables:
                db.execute(f"INSERT INTO main.{table} SELECT {columns} FROM old.{table} "
                           "WHERE id IN (SELECT id FROM carried)")
    finally:
        db.execute("DETACH DATABASE old")


def _has_table(db: sqlite3.Connection, schema: str, name: str) -> bool:
    return db.execute(f"SELECT count(*) FROM {schema}.sqlite_master WHERE type = 'table' "
                      "AND name = ?", (name,)).fetchone()[0] > 0


def _format(path: Path) -> int:
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def _recompute_rows(db: sqlite3.Connection, ids: set[str], source: Path,
                    fold: dict[int, str]) -> None:
    old = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = old.execute(f"SELECT {_COLUMNS} FROM titles").fetchall()
    finally:
        old.close()
    with db:
        for row in rows:
            if row[0] in ids:
                _insert(db, Title(*row), fold)


def _insert(db: sqlite3.Connection, title: Title, fold: dict[int, str]) -> None:
    row = [getattr(title, name) for name in FIELDS]
    db.execute(f"INSERT INTO titles VALUES ({', '.join('?' * (len(FIELDS) + 1))})",
               (*row, _sort_key(title.title)))  # the space: 红楼梦 before 红楼梦魇
    db.executemany("INSERT INTO terms VALUES (?, ?, ?)",
                   [(term, kind, title.id) for kind, term in search_terms(title, fold)])
    db.execute("INSERT INTO words VALUES (?, ?, ?)", (
        title.id, title.title.translate(fold).lower(), title.author.translate(fold).lower()))
    if title.publisher:
        db.execute("INSERT INTO publishers VALUES (?, ?)", (title.id, title.publisher))


def search_terms(title: Title, fold: dict[int, str] | None = None) -> set[tuple[int, str]]:
    """Every (kind, term) a title is found by; characters folded with `fold`, pinyin read
    from the text as written (pypinyin reads traditional characters too)."""
    from content.pinyin import initials, inner, spelled  # ~30 MB of dictionaries: writers only
    fold = fold or {}
    author = _NATIONALITY.sub("", title.author)
    terms = {(TITLE, _squash(title.title.translate(fold))),
             (TITLE_INITIALS, initials(title.title)), (TITLE_SPELLED, spelled(title.title)),
             (ISBN, _digits(title.isbn)), (ISBN, _isbn_10(_digits(title.isbn)))}
    for later_spelled, later_initials in inner(title.title):
        terms |= {(TITLE_INNER_SPELLED, later_spelled), (TITLE_INNER_INITIALS, later_initials)}
    for name in {title.author, author}:
        terms |= {(AUTHOR, _squash(name.translate(fold))), (AUTHOR_INITIALS, initials(name)),
                  (AUTHOR_SPELLED, spelled(name))}
        for later_spelled, later_initials in inner(name):
            terms |= {(AUTHOR_INNER_SPELLED, later_spelled),
                      (AUTHOR_INNER_INITIALS, later_initials)}
    return {(kind, term) for kind, term in terms if term}


def _isbn_10(digits: str) -> str:
    """The ISBN-10 of a 978 ISBN-13 ("x" for a check value of 10); "" for any other."""
    if len(digits) != 13 or not digits.startswith("978") or not digits.isdigit():
        return ""
    body = digits[3:12]
    check = -sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
    return body + ("x" if check == 10 else str(check))


def _sort_key(text: str) -> str:
    from content.pinyin import spelled
    return f"{spelled(text)} {text}"  # the space: 红楼梦 before 红楼梦魇


def _squash(text: str) -> str:
    """What a query and a term are compared as: lower case, no spaces or middle dots."""
    return re.sub(r"[\s·•・'\-]+", "", text.lower())


def _digits(isbn: str) -> str:
    return re.sub(r"[^0-9xX]", "", isbn).lower()


class Catalogue:
    def __init__(self, db: sqlite3.Connection, folder: Path, version: int = SCHEMA_VERSION) -> None:
        self._db = db
        self.folder = folder
        self._inner = INNER_KINDS if version >= 2 else range(0)
        self._kinds = (*KINDS, *self._inner)
        self._fold: dict[int, str] = {} if version < 2 else {
            ord(traditional): simple
            for traditional, simple in db.execute("SELECT traditional, simplified FROM folds")}
        # Asked for only when the file names any publisher at all.
        self._publishers = _has_table(db, "main", "publishers") and db.execute(
            "SELECT count(*) FROM (SELECT 1 FROM publishers LIMIT 1)").fetchone()[0] > 0

    @classmethod
    def open(cls, version_dir: Path) -> "Catalogue":
        path = Path(version_dir).resolve() / FILE_NAME
        if not path.is_file():
            raise ContentError(f"no e-book catalogue at {path}")
        try:
            db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
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
                            "ORDER BY sort_key LIMIT ? OFFSET ?", (*args, limit, offset))

    def new_titles(self, today: str, limit: int = 60) -> list[Title]:
        """Titles the newest batch brought: "new this month"."""
        return self._titles(
            f"SELECT {_COLUMNS} FROM titles WHERE added = (SELECT max(added) FROM titles) "
            "AND valid_from <= ? AND valid_until >= ? ORDER BY sort_key LIMIT ?",
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
        stops at `limit`, so one typed letter matching half the catalogue costs no more than a
        precise query."""
        term, text = self._typed(query)
        if not term:
            return []
        found: list[str] = []
        seen: set[str] = set()

        def take(ids: Iterable[str]) -> None:
            for title_id in ids:
                if title_id not in seen and len(found) < limit:
                    seen.add(title_id)
                    found.append(title_id)

        # Tiers in ranking order, each asked only while the page has room.
        steps: list[Callable[[], list[str]]] = [
            *(partial(self._matching, kind, "k.term = ?2", term, today, limit) for kind in KINDS),
            *(partial(self._matching, kind, "k.term > ?2 AND k.term < ?2 || char(1114111)", term,
                      today, 2 * limit) for kind in KINDS),
            *(partial(self._matching, kind, _PREFIX, term, today, 2 * limit)
              for kind in self._inner),  # pinyin from a later syllable: "loumeng"
            partial(self._containing, text, today, 2 * limit)]
        if _MIXED.match(term):  # "红l": characters, then an initial
            steps += [partial(self._matching, kind, _PREFIX, self._mixed_initials(term), today,
                              2 * limit) for kind in self._kinds]
        for step in steps:
            if len(found) >= limit:
                break
            take(step())
        if not found:
            return []
        rows = {t.id: t for t in self._titles(
            f"SELECT {_COLUMNS} FROM titles WHERE id IN ({', '.join('?' * len(found))})", found)}
        return [rows[i] for i in found if i in rows]

    def search_count(self, query: str, today: str) -> int:
        """How many licensed titles `search` would find with no limit: the honest number a
        screen shows above the first page ("找到 134 本，显示前 60 本")."""
        term, text = self._typed(query)
        if not term:
            return 0
        # ?1 text, ?2 its FTS pattern, ?3 today (as _containing binds them), ?4 term, ?5 the
        # initials of a mixed query.
        kinds = ", ".join(str(kind) for kind in self._kinds)
        terms = f"SELECT k.id FROM terms k WHERE k.kind IN ({kinds}) AND "
        parts = [terms + _starts_with("?4"),
                 f"SELECT w.id FROM words w WHERE {_contains_condition(text)[0]}"]
        mixed = _MIXED.match(term) is not None
        if mixed:
            parts.append(terms + _starts_with("?5"))
        return int(self._db.execute(
            f"SELECT count(*) FROM titles t WHERE t.id IN ({' UNION '.join(parts)}) "
            "AND t.valid_from <= ?3 AND t.valid_until >= ?3",
            (text, _contains_condition(text)[1], today, term,
             *([self._mixed_initials(term)] if mixed else []))).fetchone()[0])

    def _typed(self, query: str) -> tuple[str, str]:
        """What a query is matched as: the term (squashed, or ISBN digits) and the text for
        substrings, both folded to simplified characters."""
        query = query.strip()[:MAX_QUERY].translate(self._fold)
        term = _digits(query) if _ISBN_LIKE.match(query) else _squash(query)
        return term, query.lower()

    @staticmethod
    def _mixed_initials(term: str) -> str:
        from content.pinyin import initials  # only for "红l": characters, then an initial
        return initials(term)

    def _matching(self, kind: int, condition: str, term: str, today: str,
                  limit: int) -> list[str]:
        """Licensed titles with a term of `kind` meeting `condition`, in the terms' order:
        an index range scan that stops after `limit` rows."""
        return [row[0] for row in self._db.execute(
            "SELECT k.id FROM terms k JOIN titles t ON t.id = k.id "
            f"WHERE k.kind = ?1 AND {condition} "
            "AND t.valid_from <= ?3 AND t.valid_until >= ?3 ORDER BY k.term, t.sort_key LIMIT ?4",
            (kind, term, today, limit))]

    def _containing(self, text: str, today: str, limit: int) -> list[str]:
        """Titles whose title, then author, contains `text` (characters typed: "楼梦")."""
        licensed = "t.valid_from <= ?3 AND t.valid_until >= ?3"
        match, pattern = _contains_condition(text)
        rows = self._db.execute(
            f"SELECT w.id FROM words w JOIN titles t ON t.id = w.id WHERE {match} AND {licensed} "
            "ORDER BY instr(w.title, ?1) = 0, t.sort_key LIMIT ?4", (text, pattern, today, limit))
        return [row[0] for row in rows]

    def _titles(self, sql: str, args: tuple | list) -> list[Title]:
        titles = [Title(*row) for row in self._db.execute(sql, args)]
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


def _contains_condition(text: str) -> tuple[str, str]:
    """The condition on `words w` for titles or authors containing ?1 (the text), and ?2,
    the pattern bound for it."""
    if len(text) >= TRIGRAM:
        return "words MATCH ?2", '"' + text.replace('"', '""') + '"'  # one phrase: quotes are text
    # one or two characters: a bounded scan is quick enough
    return "(instr(w.title, ?1) > 0 OR instr(w.author, ?1) > 0)", text


def _shelf(category: str | None, today: str) -> tuple[str, tuple]:
    where = "valid_from <= ? AND valid_until >= ?"
    if category is None:
        return where, (today, today)
    return "category = ? AND " + where, (category, today, today)
