"""Catalogue files of earlier formats: a kiosk updated before its next batch keeps its old
catalogue, and must open and search it, never loading a pinyin dictionary, until the next
batch writes the current format (titles carried from the old file get the new tables)."""

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from content.catalogue import SCHEMA_VERSION, Catalogue, _format, write_catalogue

TODAY = "2026-11-25"
FORMAT_2 = Path(__file__).parent / "catalogue_format_2" / "catalogue.sqlite3"


def ids(titles):
    return [t.id for t in titles]


@pytest.fixture
def format_2(tmp_path):
    shutil.copyfile(FORMAT_2, tmp_path / "catalogue.sqlite3")
    assert _format(tmp_path / "catalogue.sqlite3") == 2
    opened = Catalogue.open(tmp_path)
    yield opened
    opened.close()


@pytest.mark.parametrize("query, found", [
    ("hlm", ["21", "31"]), ("loumeng", ["21", "31"]), ("楼梦", ["21", "31"]),
    ("养生", ["27", "23"]), ("養生", ["27", "23"]), ("黄帝内经", ["24"]), ("702000220X", ["21"]),
    ("梦", ["21", "31"]), ("python", ["25"]), ("xyj", ["32"]),
])
def test_a_format_2_catalogue_searches_as_it_did(format_2, query, found):
    assert ids(format_2.search(query, TODAY)) == found
    assert format_2.search_count(query, TODAY) == len(found)


def test_a_format_2_catalogue_finds_characters_then_letters_by_their_text_only(format_2):
    """No initials table in format 2, and no dictionary on the kiosk: "红l" finds what its
    text finds (nothing here) until the next batch writes format 3."""
    assert ids(format_2.search("红l", TODAY)) == []
    assert format_2.search_count("红l", TODAY) == 0
    assert format_2.get("31", TODAY).publisher == "人民文学出版社"


def test_titles_carried_from_a_format_2_catalogue_are_written_in_format_3(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    shutil.copyfile(FORMAT_2, old / "catalogue.sqlite3")
    write_catalogue(new / "catalogue.sqlite3", [], carried=["21", "23", "31"],
                    carried_from=old / "catalogue.sqlite3")
    assert _format(new / "catalogue.sqlite3") == SCHEMA_VERSION == 3
    opened = Catalogue.open(new)
    try:
        assert ids(opened.search("红l", TODAY)) == ["21", "31"]
        assert ids(opened.search("养生", TODAY)) == ["23"]
        assert opened.get("31", TODAY).publisher == "人民文学出版社"
    finally:
        opened.close()


def test_searching_an_old_catalogue_never_loads_a_dictionary(tmp_path):
    shutil.copyfile(FORMAT_2, tmp_path / "catalogue.sqlite3")
    script = textwrap.dedent(f"""
        import sys
        from content.catalogue import Catalogue
        c = Catalogue.open({str(tmp_path)!r})
        for q in ["红l", "hlm", "梦", "楼梦", "9787", "曹雪芹", "cxq", "養生l"]:
            c.search(q, {TODAY!r}); c.search_count(q, {TODAY!r})
        loaded = [m for m in ("pypinyin", "content.pinyin", "opencc") if m in sys.modules]
        assert not loaded, loaded
    """)
    subprocess.run([sys.executable, "-c", script], check=True,
                   cwd=Path(__file__).resolve().parent.parent)


def test_a_format_2_catalogue_from_before_the_publisher_still_opens(tmp_path):
    shutil.copyfile(FORMAT_2, tmp_path / "catalogue.sqlite3")
    with sqlite3.connect(tmp_path / "catalogue.sqlite3") as db:
        db.execute("DROP TABLE publishers")  # as a format-2 writer before the publisher wrote
    opened = Catalogue.open(tmp_path)
    try:
        assert opened.get("31", TODAY).publisher == ""
        assert ids(opened.search("xyj", TODAY)) == ["32"]
        assert {t.publisher for t in opened.all_titles()} == {""}
    finally:
        opened.close()
