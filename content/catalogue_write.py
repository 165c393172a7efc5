"""Writing a catalogue file (format 3): everything search matches on, computed once, when a
batch is applied or a catalogue is built. Runs on the thread (or process) applying the batch;
the only module of the catalogue that reads pinyin or OpenCC.

Titles are numbered in shelf order (pinyin, then id) and every search table is keyed by that
number `n`, the rowid of `titles`: an index range scan of a term then yields titles already
in the order a result page shows them, and stops at the page's end.

The build streams: each title's rows go to unindexed staging tables in a file beside the new
one (each distinct title, author and ISBN start read once, catalogue_parts.py; the terms
packed into one JSON array per title, the title's later-syllable terms as offsets into its
spelling and initials, cut in SQL), then each final table is filled in its key's order by
one sorted INSERT ... SELECT, so memory stays flat whatever the catalogue's size (about 55 MB,
18 of them the dictionary). How many titles each short query finds is added up on a thread of
its own while SQLite sorts the terms (catalogue_counting.py): both cores work at the end.
"""

from __future__ import annotations

import gc
import heapq
import json
import sqlite3
from collections import defaultdict
from dataclasses import replace
from operator import attrgetter
from pathlib import Path
from typing import Iterable, Iterator

from content.catalogue import FIELDS, SCHEMA_VERSION, _format, _has_table, hex_chars
from content.catalogue_counting import LaterCount
from content.catalogue_parts import PACKED_KIND, Fields, Tally, inner_terms, pack, unpack
from content.catalogue_terms import COUNTED_WINDOWS, TITLE_INNER_INITIALS, TITLE_INNER_SPELLED
from content.errors import ContentError
from content.pinyin import release_dictionary
from content.title import Title

_COLUMNS = ", ".join(FIELDS)
# Characters whose initial a mixed query ("红l") may hold, besides those in the catalogue.
_COMMON_HAN = (0x4E00, 0x9FFF)

SCHEMA = f"""
PRAGMA user_version = {SCHEMA_VERSION};
CREATE TABLE titles (
    id TEXT NOT NULL UNIQUE, isbn TEXT, title TEXT, author TEXT, category TEXT, summary TEXT,
    cover TEXT, file TEXT, size INTEGER, sha256 TEXT, format TEXT,
    valid_from TEXT, valid_until TEXT, added TEXT,
    sort_key TEXT  -- the title's pinyin; rowid n is the order of (sort_key, id)
);
CREATE INDEX titles_by_shelf ON titles (category);  -- then rowid: shelf order
CREATE INDEX titles_by_added ON titles (added);
-- Search terms (see content/catalogue.py for the kinds); n is the title's rowid.
CREATE TABLE terms (kind INTEGER NOT NULL, term TEXT NOT NULL, n INTEGER NOT NULL,
                    PRIMARY KEY (kind, term, n)) WITHOUT ROWID;
-- One or two characters typed: every character of the title and author (folded, lower
-- case) as a token, its code point in hex ("7ea2 697c 68a6" for 红楼梦), so any character,
-- punctuation too, is a token of its own and a pair is a two-token phrase.
CREATE VIRTUAL TABLE chars USING fts5(title, author, tokenize='ascii', content='');
-- Three characters or more: trigrams of the title and author (folded, lower case).
CREATE VIRTUAL TABLE words USING fts5(title, author, tokenize='trigram', content='');
-- How many titles each short query finds (catalogue_terms.counted), per licence window: the
-- counts that would otherwise read a large part of the index at each key typed. Empty when
-- the titles have more than COUNTED_WINDOWS licence windows: then every count is made at
-- search time (exact, slower for short queries over large catalogues).
CREATE TABLE counts (key TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT NOT NULL,
                     titles INTEGER NOT NULL, PRIMARY KEY (key, valid_from, valid_until))
                     WITHOUT ROWID;
CREATE TABLE folds (traditional TEXT PRIMARY KEY, simplified TEXT NOT NULL) WITHOUT ROWID;
-- Pinyin initials of each character read alone, and of each phrase the titles and authors
-- were read in (folded): a query like "红l" or "银行d" needs no dictionary.
CREATE TABLE initials (text TEXT PRIMARY KEY, initials TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE publishers (id TEXT PRIMARY KEY, publisher TEXT NOT NULL) WITHOUT ROWID;
"""

_STAGING = """
CREATE TABLE stage.titles (s INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, isbn, title, author,
    category, summary, cover, file, size, sha256, format, valid_from, valid_until, added,
    sort_key, publisher, folded_title, folded_author,
    initials,  -- the title's pinyin initials; sort_key starts with its spelling
    terms TEXT);  -- a JSON array of packed terms (catalogue_parts.pack), unpacked by json_each,
                  -- and of offsets cut into the title's later-syllable terms (_finish)
CREATE TABLE stage.copied_terms (s INTEGER, kind INTEGER, term TEXT);  -- carried titles'
"""


def write_catalogue(db_path: Path, titles: Iterable[Title], *, carried: Iterable[str] = (),
                    carried_from: Path | None = None) -> None:
    """Create the catalogue file with every search term computed; it must not exist yet.

    `carried` names titles unchanged since the catalogue file `carried_from`: their rows and
    pinyin terms are copied from it (pinyin is the slow part of a batch) when it is of this
    format; from an older format they are computed as new titles are.
    """
    from content.fold import table, traditional_pairs
    if db_path.exists():
        raise ContentError(f"{db_path} exists already: a catalogue is written once")
    pairs = traditional_pairs()
    fold = table(pairs)
    # Staging beside the new file, not in /tmp, which may be RAM on a kiosk.
    staging = db_path.with_name(f".{db_path.name}.staging")
    counting = db_path.with_name(f".{db_path.name}.counting")
    for left in (staging, counting):  # by a build that was killed
        left.unlink(missing_ok=True)
    db = sqlite3.connect(db_path, isolation_level=None)
    stager: _Stager | None = None
    try:
        # A new file, synced by the caller before anything points at it: no journal needed.
        # Caches are small to keep memory flat; the sorts that fill each table hand their runs
        # to one helper thread (more helpers cost CPU time and saved no time here). Staging
        # appends rows: 1 MB holds what it writes next (2.5 MB added 1.4 MB to the peak of
        # 200,000 titles with random ids, and no speed, nor to a monthly apply's).
        db.execute("ATTACH DATABASE ? AS stage", (str(staging),))
        db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                         "PRAGMA stage.journal_mode = OFF; PRAGMA stage.synchronous = OFF; "
                         "PRAGMA threads = 1; PRAGMA cache_size = -2500; "
                         "PRAGMA stage.cache_size = -1000;")
        db.executescript(SCHEMA + _STAGING)
        db.execute("BEGIN")
        db.executemany("INSERT INTO folds VALUES (?, ?)", pairs)
        stager = _Stager(db, fold, counting)
        for title in titles:
            stager.add(title)
        carried = list(carried)
        if carried and carried_from is not None:
            if _format(carried_from) == SCHEMA_VERSION:
                _stage_copied(db, stager, carried, carried_from)
            else:
                _stage_recomputed(stager, set(carried), carried_from)
        stager.flush()
        _finish(db, stager)
        db.execute("COMMIT")
        db.execute("DETACH DATABASE stage")
        db.execute("PRAGMA analysis_limit = 400")
        db.execute("ANALYZE main")
    finally:
        if stager is not None:
            stager.later.close()
        db.close()
        staging.unlink(missing_ok=True)


class _Stager:
    """Titles into the staging tables, each field read once per distinct text, in batches of
    rows."""

    BATCH = 1000  # titles per executemany: few calls, little memory

    def __init__(self, db: sqlite3.Connection, fold: dict[int, str], counting: Path) -> None:
        self._db = db
        self.fold = fold
        self.fields = Fields(fold)
        self._titles: list[tuple] = []
        self._next = 1  # the staging number s of the next title
        # False once a carried file has no counts (its titles had too many licence windows):
        # the counts of the titles carried from it cannot be known without reading them.
        self.countable = True
        # Per licence window, how many titles each counted query finds.
        self.counts: dict[tuple[str, str], Tally] = defaultdict(Tally)
        self.later = LaterCount(counting, self.counts)  # what read titles add to them

    @property
    def chars(self) -> set[str]:
        return self.fields.chars

    @property
    def phrases(self) -> dict[str, str]:
        return self.fields.phrases

    def add(self, title: Title) -> None:
        s, self._next = self._next, self._next + 1
        named, author = self.fields.title(title.title), self.fields.author(title.author)
        isbn = self.fields.isbn(title.isbn)
        self._titles.append((
            s, *_fields_of(title),
            f"{named.spelled} {title.title}",  # 红楼梦 before 红楼梦魇
            title.publisher or None, named.folded, author.folded, named.initials,
            _json_array(named.terms, author.terms, isbn.terms)))
        window, counts = (title.valid_from, title.valid_until), self.counts
        if window not in counts and len(counts) <= COUNTED_WINDOWS:  # else never kept
            counts[window] = Tally()  # the count thread adds to it (LaterCount)
        if window in counts:
            self.later.add(window, named, author.keys, isbn.keys)
        if len(self._titles) >= self.BATCH:
            self.flush()

    def keys(self, folded_title: str, folded_author: str, packed: set[str]) -> set[str]:
        """The counted queries that find a title of this text and these terms."""
        return {*self.fields.keys(folded_title, packed), *self.fields.keys(folded_author, ())}

    @property
    def staged(self) -> int:
        return self._next - 1

    def restart_after(self, last: int | None) -> None:
        """Rows were staged in SQL: number the next title after the `last` staged."""
        self._next = (last or 0) + 1

    def flush(self) -> None:
        self._db.executemany(
            f"INSERT INTO stage.titles (s, {_COLUMNS}, sort_key, publisher, folded_title, "
            f"folded_author, initials, terms) VALUES ({', '.join('?' * (len(FIELDS) + 7))})",
            self._titles)
        self._titles.clear()
        self.later.flush()


_fields_of = attrgetter(*FIELDS)


def _json_array(*items: str) -> str:
    """A JSON array of the fields' items, a field's empty when it has none."""
    return f"[{','.join(filter(None, items))}]"


def search_terms(title: Title, fold: dict[int, str] | None = None) -> set[tuple[int, str]]:
    """Every (kind, term) a title is found by; characters folded with `fold`, pinyin read
    from the text as written (the dictionary reads traditional characters too)."""
    fields = Fields(fold or {}, kept=0)
    named = fields.title(title.title)
    items = ",".join(field.terms for field in (named, fields.author(title.author),
                                               fields.isbn(title.isbn)) if field.terms)
    return set(map(unpack, inner_terms(json.loads(f"[{items}]"), named.spelled,
                                       named.initials)))


def _stage_copied(db: sqlite3.Connection, stager: _Stager, ids: list[str],
                  source: Path) -> None:
    """Titles carried from a format-3 file, in SQL: rows, shelf order, pinyin terms and
    initials copied; the counts carried as the old file's less the titles not carried; the
    character and trigram tables (no pinyin in them) made again from the folded text."""
    stager.flush()
    db.execute("COMMIT")  # a database is attached outside a transaction
    db.execute("ATTACH DATABASE ? AS old", (f"{Path(source).resolve().as_uri()}?mode=ro",))
    try:
        db.execute("BEGIN")
        db.execute("CREATE TABLE stage.carried (id TEXT PRIMARY KEY)")
        db.executemany("INSERT INTO stage.carried VALUES (?)", ((i,) for i in ids))
        db.create_function("folded", 1, lambda text: text.translate(stager.fold).lower(),
                           deterministic=True)
        publishers = "(SELECT p.publisher FROM old.publishers p WHERE p.id = t.id)" \
            if _has_table(db, "old", "publishers") else "NULL"
        old_fields = ", ".join("t." + f for f in FIELDS)
        db.execute(
            f"INSERT INTO stage.titles (s, {_COLUMNS}, sort_key, publisher, folded_title, "
            f"folded_author, terms) SELECT NULL, {old_fields}, t.sort_key, {publishers}, "
            "folded(t.title), folded(t.author), '[]' FROM old.titles t "
            "WHERE t.id IN (SELECT id FROM stage.carried) ORDER BY t.rowid")
        db.execute(
            "INSERT INTO stage.copied_terms SELECT s.s, k.kind, k.term FROM old.terms k "
            "JOIN old.titles t ON t.rowid = k.n JOIN stage.titles s ON s.id = t.id "
            "WHERE t.id IN (SELECT id FROM stage.carried)")
        stager.restart_after(db.execute("SELECT max(s) FROM stage.titles").fetchone()[0])
        stager.phrases.update(db.execute("SELECT text, initials FROM old.initials"))
        counts = db.execute("SELECT * FROM old.counts").fetchall()
        for key, valid_from, valid_until, titles in counts:
            stager.counts[valid_from, valid_until].counts[key] += titles
        stager.countable = stager.countable and bool(counts or not ids)
        _uncount_not_carried(db, stager)
        db.execute("COMMIT")
    finally:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.execute("DETACH DATABASE old")
        db.execute("BEGIN")


def _uncount_not_carried(db: sqlite3.Connection, stager: _Stager) -> None:
    """Take the old file's titles that are not carried (withdrawn, or updated: staged anew)
    out of the counts carried from it. They are few: their terms are gathered in one pass."""
    gone = "SELECT rowid FROM old.titles WHERE id NOT IN (SELECT id FROM stage.carried)"
    terms: dict[int, set[str]] = defaultdict(set)
    for n, kind, term in db.execute(f"SELECT n, kind, term FROM old.terms WHERE n IN ({gone})"):
        terms[n].add(pack(kind, term))
    for n, title, author, valid_from, valid_until in db.execute(
            f"SELECT rowid, title, author, valid_from, valid_until FROM old.titles "
            f"WHERE rowid IN ({gone})"):
        stager.counts[valid_from, valid_until].counts.subtract(stager.keys(
            title.translate(stager.fold).lower(), author.translate(stager.fold).lower(),
            terms[n]))


def _stage_recomputed(stager: _Stager, ids: set[str], source: Path) -> None:
    """Titles carried from an older format: their terms computed as new titles' are."""
    old = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    try:
        publishers = dict(old.execute("SELECT id, publisher FROM publishers")) \
            if _has_table(old, "main", "publishers") else {}
        for row in old.execute(f"SELECT {_COLUMNS} FROM titles"):
            title = replace(Title(*row), publisher=publishers.get(row[0], ""))
            if title.id in ids:
                stager.add(title)
    finally:
        old.close()


# A title's later-syllable terms, staged as offsets (catalogue_parts.inner_terms): the end of
# its spelling (the start of sort_key) from n, of its initials from ~n.
_INNER_SPELLED, _INNER_INITIALS = pack(TITLE_INNER_SPELLED, ""), pack(TITLE_INNER_INITIALS, "")
_HELD = 3000  # titles, about 1 kB each in the file: the new file's 2.5 MB cache holds most
# of their pages (staging's 1 MB made no difference to 2,000 titles' build)


def _finish(db: sqlite3.Connection, stager: _Stager) -> None:
    """Number the staged titles in shelf order and fill each table in its key's order; the
    counts are added up on a thread of their own meanwhile (catalogue_counting)."""
    db.create_function("hex_chars", 1, hex_chars, deterministic=True)
    if stager.staged > _HELD:
        # Staged rows are read in order and the tables written in key order: small caches
        # do, and the sorter's runs (as large as main's cache) are no slower for being small.
        # A small catalogue keeps the larger caches: they hold most of it, saving re-reads.
        db.execute("PRAGMA stage.cache_size = -500")
        db.execute("PRAGMA main.cache_size = -1000")
    _write_initials(db, stager)
    if stager.staged > _HELD:
        # What was read is written: the sorts below get the memory of the dictionary and the
        # caches (the build's peak was here, with both held through the sorts).
        stager.fields.forget(everything=True)
        release_dictionary()
        gc.collect()
    for statement in _WITH_PYTHON.split(";"):  # not executescript: it would commit first
        db.execute(statement)
    # The statements that follow call no Python: the counting thread has the interpreter to
    # itself while SQLite sorts (a Python function called per row would wait for it each time).
    stager.later.start()
    for statement in _SQL_ONLY.split(";"):
        db.execute(statement)
    stager.later.join()
    _write_counts(db, stager)


# Terms are sorted as packed text (kind letter, then term: the same order as (kind, term)) and
# n: SQLite's sorter compares a leading text column with one memcmp, while a leading integer
# that ties (eleven kinds) sends each comparison to its general record compare, twice as slow
# over millions of terms.
_TERMS = f"""
    INSERT INTO main.terms SELECT unicode(packed) - {PACKED_KIND}, substr(packed, 2), n
        FROM (SELECT CASE WHEN j.type = 'text' THEN j.value
                     WHEN j.value >= 0 THEN '{_INNER_SPELLED}' || substr(t.sort_key,
                         j.value + 1, instr(t.sort_key, ' ') - 1 - j.value)
                     ELSE '{_INNER_INITIALS}' || substr(t.initials, ~j.value + 1) END
                     AS packed, r.n AS n
              FROM stage.titles t JOIN stage.ranks r USING (s), json_each(t.terms) j
              UNION ALL SELECT char({PACKED_KIND} + c.kind) || c.term, r.n
              FROM stage.copied_terms c JOIN stage.ranks r USING (s)
              ORDER BY 1, 2)
"""
# Titles numbered in shelf order, then the one table whose statement calls Python (hex_chars).
_WITH_PYTHON = """
    CREATE TABLE stage.ranks (s INTEGER PRIMARY KEY, n INTEGER NOT NULL);
    INSERT INTO stage.ranks SELECT s, row_number() OVER (ORDER BY sort_key, id)
        FROM stage.titles;
    INSERT INTO main.chars (rowid, title, author)
        SELECT r.n, hex_chars(t.folded_title), hex_chars(t.folded_author)
        FROM stage.titles t JOIN stage.ranks r USING (s) ORDER BY r.n
"""
# The other tables, the terms last: their statements call no Python.
_SQL_ONLY = f"""
    INSERT INTO main.titles (rowid, {_COLUMNS}, sort_key)
        SELECT r.n, {', '.join('t.' + f for f in FIELDS)}, t.sort_key
        FROM stage.titles t JOIN stage.ranks r USING (s) ORDER BY r.n;
    INSERT INTO main.publishers SELECT id, publisher FROM stage.titles
        WHERE publisher IS NOT NULL ORDER BY id;
    INSERT INTO main.words (rowid, title, author)
        SELECT r.n, t.folded_title, t.folded_author
        FROM stage.titles t JOIN stage.ranks r USING (s) ORDER BY r.n;
    {_TERMS}
"""


def _write_initials(db: sqlite3.Connection, stager: _Stager) -> None:
    """The initials of each character and phrase read, in key order."""
    from content.pinyin import char_initials, read
    rows = dict(char_initials(*_COMMON_HAN))
    rows.update((c, read(c).initials) for c in stager.chars if c not in rows and (
        "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"))
    rows.update(stager.phrases)
    db.executemany("INSERT INTO main.initials VALUES (?, ?)",
                   ((text, rows[text]) for text in sorted(rows) if rows[text]))


def _write_counts(db: sqlite3.Connection, stager: _Stager) -> None:
    """The counts, when kept, in key order. Rows are made as they are inserted, from sorted
    keys: a catalogue's hundred thousand counts held as a sorted list of tuples were its
    build's peak of memory."""
    if stager.countable and len(stager.counts) <= COUNTED_WINDOWS:
        # Per window its keys in order; merged, the rows are in (key, window) order.
        db.executemany("INSERT INTO main.counts VALUES (?, ?, ?, ?)", heapq.merge(
            *(_count_rows(window, tally.total()) for window, tally in stager.counts.items())))
    stager.counts.clear()


def _count_rows(window: tuple[str, str], counts: dict[str, int]) -> Iterator[tuple]:
    """One window's count rows in key order."""
    return ((key, *window, counts[key]) for key in sorted(counts) if counts[key] > 0)
