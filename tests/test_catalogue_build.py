"""Writing a catalogue: titles carried from the previous file search exactly as titles
computed afresh, and a build leaves nothing but its file."""

import sqlite3
import threading
from dataclasses import replace

import pytest

from content.catalogue import Catalogue, write_catalogue
from content.catalogue_terms import PREFIXES_ONLY, squash
from tests import search_cases


def test_carried_titles_search_as_titles_computed_afresh(tmp_path):
    every = search_cases.titles(800)
    old, carried, fresh = (tmp_path / name for name in ("old", "carried", "fresh"))
    for folder in (old, carried, fresh):
        folder.mkdir()
    write_catalogue(old / "catalogue.sqlite3", every[::2])
    write_catalogue(carried / "catalogue.sqlite3", every[1::2],
                    carried=[t.id for t in every[::2]], carried_from=old / "catalogue.sqlite3")
    write_catalogue(fresh / "catalogue.sqlite3", every)
    found = []
    for folder in (carried, fresh):
        opened = Catalogue.open(folder)
        try:
            found.append(search_cases.results(opened))
            assert sorted(t.id for t in opened.all_titles()) == sorted(t.id for t in every)
        finally:
            opened.close()
    assert found[0] == found[1]


def test_a_batch_that_withdraws_and_updates_titles_counts_as_a_fresh_build(tmp_path):
    """Counts are carried from the previous file less the titles not carried."""
    every = search_cases.titles(800)
    updated = [replace(t, valid_until="2026-11-30", title=t.title + "新版")
               for t in every[500:550]]
    old, carried, fresh = (tmp_path / name for name in ("old", "carried", "fresh"))
    for folder in (old, carried, fresh):
        folder.mkdir()
    write_catalogue(old / "catalogue.sqlite3", every[:600])  # 550-599 are withdrawn below
    write_catalogue(carried / "catalogue.sqlite3", [*every[600:], *updated],
                    carried=[t.id for t in every[:500]], carried_from=old / "catalogue.sqlite3")
    write_catalogue(fresh / "catalogue.sqlite3", [*every[:500], *updated, *every[600:]])
    found = []
    for folder in (carried, fresh):
        opened = Catalogue.open(folder)
        try:
            found.append(search_cases.results(opened))
            found.append({q: opened.search_count(q, "2026-12-01") for q in ("x", "xin", "新")})
        finally:
            opened.close()
    assert found[0] == found[2] and found[1] == found[3]


def test_a_build_leaves_only_its_file(tmp_path):
    for left in (".catalogue.sqlite3.staging", ".catalogue.sqlite3.counting"):
        (tmp_path / left).write_bytes(b"left by a killed build")
    write_catalogue(tmp_path / "catalogue.sqlite3", search_cases.titles(50))
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.sqlite3"]


def test_titles_are_counted_on_a_thread_while_sql_calls_no_python(tmp_path, monkeypatch):
    """Adding up a title's keys took nearly half the time of reading it: it runs on a thread
    of its own while SQLite writes the terms, and SQLite calls no Python function meanwhile
    (each call would wait for the counting thread to hand over the interpreter)."""
    from content import catalogue_parts, catalogue_write
    counted_on, called_while_counting = set(), []
    add, hex_chars = catalogue_parts.Tally.add, catalogue_write.hex_chars

    def add_seen(tally, *keys):
        counted_on.add(threading.current_thread().name)
        add(tally, *keys)

    def hex_chars_seen(text):
        called_while_counting.extend(
            t.name for t in threading.enumerate() if t.name == "catalogue-counts")
        return hex_chars(text)

    monkeypatch.setattr(catalogue_parts.Tally, "add", add_seen)
    monkeypatch.setattr(catalogue_write, "hex_chars", hex_chars_seen)
    write_catalogue(tmp_path / "catalogue.sqlite3", search_cases.titles(200))
    assert counted_on == {"catalogue-counts"} and called_while_counting == []


def test_a_build_whose_counting_fails_fails_and_leaves_only_its_unfinished_file(
        tmp_path, monkeypatch):
    """The caller removes the unfinished file (content/store.py); nothing else is left."""
    from content.catalogue_parts import Tally
    from content.errors import ContentError

    def add_failing(tally, *keys):
        raise MemoryError("no room for the counts")

    monkeypatch.setattr(Tally, "add", add_failing)
    with pytest.raises(ContentError, match="counting the catalogue's titles failed: no room"):
        write_catalogue(tmp_path / "catalogue.sqlite3", search_cases.titles(50))
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.sqlite3"]


def test_a_build_failing_while_it_counts_stops_counting_and_leaves_its_unfinished_file(
        tmp_path, monkeypatch):
    """The SQL fails as the counting thread starts, its titles in batches of ten and slow to
    count: the thread stops at its next batch, long before it has counted them all."""
    import time

    from content import catalogue_parts, catalogue_write
    counted = []
    add = catalogue_parts.Tally.add

    def add_slowly(tally, *keys):
        counted.append(1)
        time.sleep(0.002)
        add(tally, *keys)

    monkeypatch.setattr(catalogue_parts.Tally, "add", add_slowly)
    monkeypatch.setattr(catalogue_write._Stager, "BATCH", 10)
    monkeypatch.setattr(catalogue_write, "_SQL_ONLY",
                        "SELECT no_such_function(); " + catalogue_write._SQL_ONLY)
    with pytest.raises(sqlite3.OperationalError, match="no_such_function"):
        write_catalogue(tmp_path / "catalogue.sqlite3", search_cases.titles(300))
    assert "catalogue-counts" not in {t.name for t in threading.enumerate()}
    assert [p.name for p in tmp_path.iterdir()] == ["catalogue.sqlite3"]
    assert 0 < len(counted) < 100


def test_titles_in_many_licence_windows_are_counted_at_search_time(tmp_path):
    """Counts are kept per licence window only while windows are few (COUNTED_WINDOWS): with a
    window per title the table would grow as titles times keys. Counts stay exact either way,
    also for a catalogue carried from such a file."""
    every = [replace(t, valid_from=f"2020-01-{1 + n % 28:02d}",
                     valid_until=f"2026-{1 + n % 12:02d}-{1 + n % 27:02d}")
             for n, t in enumerate(search_cases.titles(400))]
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
    write_catalogue(old / "catalogue.sqlite3", every[:300])
    write_catalogue(new / "catalogue.sqlite3", every[300:350],
                    carried=[t.id for t in every[:290]], carried_from=old / "catalogue.sqlite3")
    for folder in (old, new):
        with sqlite3.connect(folder / "catalogue.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM counts").fetchone()[0] == 0
        opened = Catalogue.open(folder)
        try:
            for query in ["h", "x", "的", "9787", "978-7", "zh", "王"]:
                for today in ("2026-03-05", "2026-11-25"):
                    assert opened.search_count(query, today) == len(
                        opened.search(query, today, limit=1000)), (query, today)
        finally:
            opened.close()


def test_counts_kept_in_the_file_equal_counts_made_at_search_time(tmp_path, monkeypatch):
    """Each field is read once and its keys added up by how many titles have it: with room
    for only a few fields, so that fields are read again and added up many times over, every
    count in the file is still what search counts from the index."""
    from content.catalogue_parts import Fields, Tally
    monkeypatch.setattr(Fields, "KEPT", 5)
    monkeypatch.setattr(Tally, "FIELDS", 7)
    write_catalogue(tmp_path / "catalogue.sqlite3", search_cases.titles(600))
    with sqlite3.connect(tmp_path / "catalogue.sqlite3") as db:
        kept = dict(db.execute("SELECT key, titles FROM counts WHERE valid_until > '2029'"))
    opened = Catalogue.open(tmp_path)
    try:
        assert len(kept) > 1000
        opened._counts = False  # count from the index, as for a file without counts
        made = {key: opened.search_count(key, "2026-11-25") for key in kept
                if not key.startswith(PREFIXES_ONLY) and squash(key) == key}  # as typed
        assert made == {key: kept[key] for key in made}
    finally:
        opened.close()


def test_a_tally_of_fields_counts_each_title_once_per_key():
    """Keys two or three fields of one title share count the title once."""
    import random
    from collections import Counter

    from content.catalogue_parts import Tally
    rng = random.Random(3)
    fields = [tuple(rng.sample("abcdefgh", rng.randrange(0, 5))) for _ in range(20)]
    for room in (2, 4096):  # added up often, or once at the end
        tally, expected = Tally(), Counter()
        tally.FIELDS = room
        for n in range(1000):
            title = [rng.choice(fields) for _ in range(3)]
            # A title read once comes as a set, counted at once; read again, a kept tuple.
            tally.add(set(title[0]) if n % 2 else title[0], title[1], title[2])
            expected.update({*title[0], *title[1], *title[2]})
        assert +tally.total() == expected


def test_fields_are_kept_while_their_texts_recur(monkeypatch):
    """A field is read again only when its text was dropped; room for more grows while
    dropped texts come back, and stays small while every text is new."""
    import random

    from content.catalogue_parts import Field, _Kept
    monkeypatch.setattr(_Kept, "FIRST", 8)
    reads: list[str] = []
    recurring = _Kept(lambda text: reads.append(text) or Field(text, "", ()), most=64)
    rng = random.Random(5)
    for _ in range(2000):
        assert recurring(text := f"author {rng.randrange(50)}").folded == text
    assert len(set(reads)) == 50 and len(reads) < 150  # room grew to hold all 50
    new = _Kept(lambda text: Field(text, "", ()), most=64)
    for n in range(2000):
        new(f"title {n}")
    assert len(new._kept) <= 8


def test_a_large_build_drops_the_dictionary_before_its_sorts(tmp_path, monkeypatch):
    """Its pages go to SQLite's sorts (the build's peak of memory was there, with the
    dictionary held through them); a small build keeps it for the next."""
    from content import catalogue_write, pinyin
    monkeypatch.setattr(catalogue_write, "_HELD", 100)
    write_catalogue(tmp_path / "small.sqlite3", search_cases.titles(100))
    assert pinyin._dictionary.cache_info().currsize == 1
    write_catalogue(tmp_path / "large.sqlite3", search_cases.titles(101))
    assert pinyin._dictionary.cache_info().currsize == 0


def test_staging_keeps_a_small_cache_while_titles_are_read(tmp_path, monkeypatch):
    """Staging appends rows: 1 MB of cache holds what it writes next (2.5 MB added 1.4 MB to
    the peak of bench/catalogue_build.py's 200,000 titles, and no speed)."""
    from content import catalogue_write
    caches = []
    add = catalogue_write._Stager.add

    def add_seeing_the_cache(stager, title):
        caches.append(stager._db.execute("PRAGMA stage.cache_size").fetchone()[0])
        add(stager, title)

    monkeypatch.setattr(catalogue_write._Stager, "add", add_seeing_the_cache)
    write_catalogue(tmp_path / "catalogue.sqlite3", search_cases.titles(5))
    assert caches and all(-1000 <= kib < 0 for kib in caches)  # negative: KiB


def test_character_tokens_are_each_characters_hex():
    from content.catalogue import hex_chars
    texts = ["", "红楼梦", "三体 III：死神永生", "\U00020000a\x00\n", "İK·•", "红" * 300]
    assert [hex_chars(text) for text in texts] == [
        " ".join(f"{ord(char):x}" for char in text) for text in texts]


def test_a_titles_later_syllable_terms_are_staged_as_offsets_and_cut_by_sql(tmp_path):
    """A long title's suffixes are most of its terms and letters: Python stages its whole
    spelling and initials and where each later syllable starts (n in the spelling, ~n in the
    initials), and the build's SQL cuts the terms, the same as before."""
    import json

    from content.catalogue_parts import Fields
    from content.catalogue_write import search_terms
    named = Fields({}).title("红楼梦")
    assert set(json.loads(f"[{named.terms}]")) == {"A红楼梦", "Bhlm", "Chongloumeng",
                                                   4, 7, ~1, ~2}
    title = replace(search_cases.titles(1)[0], title="红楼梦")
    inner = {(7, "loumeng"), (7, "meng"), (8, "lm"), (8, "m")}
    assert inner <= search_terms(title)
    write_catalogue(tmp_path / "c.sqlite3", [title])
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    try:
        assert set(db.execute("SELECT kind, term FROM terms WHERE kind IN (7, 8)")) == inner
    finally:
        db.close()


def test_an_isbn_13_of_978_gives_the_isbn_10_that_checks():
    """isbn_10's check digit, summed by three digits at a time, is the one ISBN-10 checks
    (content.isbn): every three-digit group in each place, and a check value of 10 ("x")."""
    import random

    from content.catalogue_parts import isbn_10
    from content.isbn import _check_10
    rng = random.Random(10)
    bodies = [f"{n:03}{rng.randrange(10 ** 6):06}" for n in range(1000)]
    bodies += [f"{rng.randrange(1000):03}{n:03}{rng.randrange(1000):03}" for n in range(1000)]
    bodies += [f"{rng.randrange(10 ** 6):06}{n:03}" for n in range(1000)]
    made = [isbn_10(f"978{body}{rng.randrange(10)}") for body in bodies]
    assert [ten[:9] for ten in made] == bodies
    assert all(_check_10(ten.upper()) for ten in made)
    assert any(ten.endswith("x") for ten in made)
    assert isbn_10("978٠٣٠٦٤٠٦١٥٢") == "٠٣٠٦٤٠٦١٥2"  # digits of another script: summed as such
    assert isbn_10("9791090636071") == isbn_10("978123") == ""


def test_an_isbn_field_holds_its_isbn_13_and_isbn_10_and_their_keys():
    from content.catalogue_parts import Fields
    fields = Fields({})
    field = fields.isbn("9787544212345")
    assert field.terms == '"G9787544212345","G7544212343"'
    assert sorted(field.keys) == sorted(
        ["9", "97", "978", "9787", "97875", "978754", "9787544", "7", "75", "754", "7544",
         *(PREFIXES_ONLY + key for key in ("9", "97", "978", "9787", "97875", "978754",
                                          "9787544", "7", "75", "754", "7544"))])
    field = fields.isbn("978-7-5442-1234-X")  # not a valid 978 ISBN-13: no ISBN-10
    assert field.terms == '"G978754421234x"' and len(field.keys) == 14
    assert fields.isbn("0-306-40615-2").terms == '"G0306406152"'
    assert fields.isbn("").terms == fields.isbn("abc").terms == ""
    assert fields.isbn("").keys == fields.isbn("abc").keys == ()
