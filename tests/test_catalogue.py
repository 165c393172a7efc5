"""The catalogue file: shelves, search as a patron types, licence windows, read-only use."""

import sqlite3

import pytest

from content.catalogue import Catalogue, write_catalogue
from content.errors import ContentError
from content.title import Title

TODAY = "2026-11-25"


def title(id, name, author, category="classics", isbn="9787000000000", valid=("2020-01-01",
          "2030-12-31"), added="2026-11"):
    return Title(id, isbn, name, author, category, "summary", f"covers/{id}.jpg",
                 f"books/{id}.epub", 1000, "0" * 64, "epub", valid[0], valid[1], added)


TITLES = [
    title("1", "红楼梦", "曹雪芹", isbn="9787020002207"),
    title("2", "红楼梦魇", "张爱玲", "literature_art", isbn="9787530212345"),
    title("3", "西游记", "吴承恩", "children", added="2026-12"),
    title("4", "楼兰之谜", "[英] 狄更斯", "history"),
    title("5", "过期的书", "王伟", valid=("2020-01-01", "2026-11-24")),
    title("6", "未来的书", "王伟", valid=("2026-11-26", "2030-01-01"), added="2026-12"),
    title("7", "100% 纯_棉 'quoted' \"书\"", "李娜", "life"),
    title("8", "银行的故事", "长安", "economics"),
    title("9", "Python编程", "Guido", "science", added="2026-12"),
]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("version")
    write_catalogue(folder / "catalogue.sqlite3", TITLES)
    opened = Catalogue.open(folder)
    yield opened
    opened.close()


def ids(titles):
    return [t.id for t in titles]


@pytest.mark.parametrize("query, first", [
    ("hlm", "1"), ("HLM", "1"), ("honglou", "1"), ("hong lou", "1"), ("红楼", "1"),
    ("曹雪", "1"), ("cxq", "1"), ("caoxueqin", "1"), ("978-7-02", "1"), ("9787020", "1"),
    ("978 7020 0022 07", "1"), ("xyj", "3"), ("dgs", "4"), ("狄更斯", "4"), ("楼兰", "4"),
    ("yhdgs", "8"), ("yinhang", "8"), ("changan", "8"), ("python", "9"), ("pythonbc", "9"),
])
def test_search_finds_by_characters_pinyin_author_and_isbn(catalogue, query, first):
    assert ids(catalogue.search(query, TODAY))[:1] == [first]


def test_ranking_is_exact_then_prefix_then_contains(catalogue):
    assert ids(catalogue.search("红楼梦", TODAY)) == ["1", "2"]  # exact, then a longer title
    assert ids(catalogue.search("楼梦", TODAY)) == ["1", "2"]  # both contain it: by pinyin
    assert ids(catalogue.search("lou", TODAY))[:1] == ["4"]  # 楼兰 starts with lou
    assert ids(catalogue.search("梦", TODAY)) == ["1", "2"]


def test_a_character_then_a_pinyin_initial_is_understood(catalogue):
    assert ids(catalogue.search("红l", TODAY))[:2] == ["1", "2"]


def test_titles_outside_their_licence_are_never_found(catalogue):
    assert ids(catalogue.search("王伟", TODAY)) == []
    assert ids(catalogue.search("ww", "2026-11-24")) == ["5"]  # its last day
    assert ids(catalogue.search("ww", "2026-11-26")) == ["6"]  # the first day of the other
    assert catalogue.get("5", TODAY) is None and catalogue.get("5", "2026-11-24").id == "5"
    assert "5" not in ids(catalogue.browse(None, TODAY, 0, 100))
    assert catalogue.popular({"5": 9, "6": 9}, TODAY) == []
    assert {t.id for t in catalogue.all_titles()} == {t.id for t in TITLES}


@pytest.mark.parametrize("query", ["%", "_", "'", '"', "' OR 1=1 --", "*", "NEAR", "a AND b",
                                   "", "   ", "x" * 200, "楼" * 200])
def test_odd_queries_are_text_and_never_fail(catalogue, query):
    found = catalogue.search(query, TODAY)
    assert all(query.strip().lower() in (t.title + t.author).lower() for t in found)


def test_wildcards_and_quotes_match_only_themselves(catalogue):
    assert ids(catalogue.search("100%", TODAY)) == ["7"]
    assert ids(catalogue.search("纯_棉", TODAY)) == ["7"]
    assert ids(catalogue.search("'quoted'", TODAY)) == ["7"]
    assert ids(catalogue.search('"书"', TODAY)) == ["7"]


def test_shelves_count_page_and_order(catalogue):
    assert catalogue.categories(TODAY) == [("classics", 1), ("literature_art", 1),
                                           ("history", 1), ("children", 1), ("science", 1),
                                           ("life", 1), ("economics", 1)]
    everything = ids(catalogue.browse(None, TODAY, 0, 100))
    assert len(everything) == catalogue.count(None, TODAY) == 7
    assert ids(catalogue.browse(None, TODAY, 2, 3)) == everything[2:5]
    assert everything[0] == "7"  # digits sort before letters in pinyin order
    assert ids(catalogue.browse("children", TODAY)) == ["3"]
    assert catalogue.count("classics", TODAY) == 1


def test_new_this_month_is_the_newest_batch_licensed_today(catalogue):
    assert ids(catalogue.new_titles(TODAY)) == ["9", "3"]  # 6 is not licensed yet


def test_most_popular_follows_the_counts_given(catalogue):
    counts = {"3": 7, "1": 9, "2": 7, "nope": 50}
    assert ids(catalogue.popular(counts, TODAY)) == ["1", "2", "3"]
    assert ids(catalogue.popular(counts, TODAY, limit=1)) == ["1"]


def test_the_catalogue_cannot_be_written_through_it(catalogue):
    with pytest.raises(sqlite3.OperationalError):
        catalogue._db.execute("DELETE FROM titles")


def test_missing_or_damaged_files_are_clear_errors(tmp_path):
    with pytest.raises(ContentError, match="no e-book catalogue"):
        Catalogue.open(tmp_path)
    (tmp_path / "catalogue.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(ContentError, match="cannot be read"):
        Catalogue.open(tmp_path)


def test_a_catalogue_is_written_once(tmp_path):
    write_catalogue(tmp_path / "catalogue.sqlite3", TITLES[:1])
    with pytest.raises(ContentError, match="written once"):
        write_catalogue(tmp_path / "catalogue.sqlite3", TITLES[:1])
