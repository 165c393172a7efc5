"""The catalogue file: shelves, search as a patron types, licence windows, read-only use."""

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from content.catalogue import FIELDS, Catalogue, write_catalogue
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


# --- matching inside titles and authors, traditional characters, ISBN-10, honest counts --------

MORE = [
    title("21", "红楼梦", "曹雪芹", isbn="9787020002207"),
    title("22", "中国通史·上", "吕思勉", "history", isbn="9787300000001"),
    title("23", "四季养生", "王琳", "life", isbn="9787500000002"),
    title("24", "黃帝內經", "佚名", "classics", isbn="9787100000003"),
    title("25", "飞行Python编程", "刘通", "science", isbn="9780306406157"),
    title("26", "龍門客棧", "金庸", "literature_art", isbn="9787200000004"),
    title("27", "养生之道", "张三", "life", isbn="9791234567896"),
]


@pytest.fixture(scope="module")
def more(tmp_path_factory):
    folder = tmp_path_factory.mktemp("more")
    write_catalogue(folder / "catalogue.sqlite3", MORE)
    opened = Catalogue.open(folder)
    yield opened
    opened.close()


@pytest.mark.parametrize("query, found", [
    ("loumeng", "21"), ("lm", "21"), ("meng", "21"), ("xueqin", "21"), ("xq", "21"),
    ("tongshi", "22"), ("ts", "22"), ("shang", "22"), ("yangsheng", "23"), ("ys", "23"),
    ("neijing", "24"), ("biancheng", "25"), ("bc", "25"), ("python", "25"), ("kezhan", "26"),
    ("养生", "23"), ("養生", "23"), ("黄帝內經", "24"), ("黄帝内经", "24"), ("内经", "24"),
    ("龙门", "26"), ("龍門客棧", "26"),
    ("702000220X", "21"), ("7-02-000220-x", "21"), ("702000", "21"), ("0306406152", "25"),
    ("0-306-40615-2", "25"), ("9787020002207", "21"), ("978-7-02-000220-7", "21"),
])
def test_matches_start_at_any_syllable_and_fold_traditional_and_isbn_10(more, query, found):
    assert found in ids(more.search(query, TODAY))


@pytest.mark.parametrize("query", ["oumeng", "ongloumeng", "ongshi", "angsheng", "eijing",
                                   "ueqin", "ang", "ianch", "uotongshi"])
def test_matches_never_start_inside_a_syllable(more, query):
    assert ids(more.search(query, TODAY)) == []
    assert more.search_count(query, TODAY) == 0


def test_a_match_at_the_start_ranks_before_one_inside(more):
    assert ids(more.search("yangsheng", TODAY)) == ["27", "23"]
    assert ids(more.search("养生", TODAY)) == ["27", "23"]


def test_an_isbn_10_with_x_is_found_by_its_isbn_13(tmp_path):
    # ISBN-10 7-02-000220-X is ISBN-13 978-7-02-000220-7: the catalogue keeps the 13.
    write_catalogue(tmp_path / "catalogue.sqlite3",
                    [title("x", "有X的书", "某人", isbn="9787020002207")])
    opened = Catalogue.open(tmp_path)
    try:
        assert ids(opened.search("702000220X", TODAY)) == ["x"]
        assert ids(opened.search("7-02-000220-x", TODAY)) == ["x"]
        assert ids(opened.search("7 02 000220 X", TODAY)) == ["x"]
        assert ids(opened.search("7020002205", TODAY)) == []  # a wrong check digit
    finally:
        opened.close()


def test_the_count_is_every_match_not_the_page_shown(tmp_path):
    many = [title(str(n), f"养生第{n}讲", "王医生", "life") for n in range(75)]
    write_catalogue(tmp_path / "catalogue.sqlite3", many)
    opened = Catalogue.open(tmp_path)
    try:
        assert len(opened.search("yangsheng", TODAY)) == 60
        assert opened.search_count("yangsheng", TODAY) == 75
        assert opened.search_count("wys", TODAY) == 75
        assert opened.search_count("养生", TODAY) == 75
        assert opened.search_count("nothing", TODAY) == 0
        assert opened.search_count("", TODAY) == 0
    finally:
        opened.close()


@pytest.mark.parametrize("query", ["h", "hlm", "l", "s", "sheng", "养", "楼梦", "红l", "978",
                                   "7", "ts", "養"])
def test_the_count_agrees_with_the_titles_found(more, query):
    assert more.search_count(query, TODAY) == len(more.search(query, TODAY, limit=1000))


def test_a_catalogue_carries_titles_from_the_previous_one(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    write_catalogue(old / "catalogue.sqlite3", MORE)
    write_catalogue(new / "catalogue.sqlite3", MORE[:1], carried=[t.id for t in MORE[1:]],
                    carried_from=old / "catalogue.sqlite3")
    opened = Catalogue.open(new)
    try:
        assert "23" in ids(opened.search("yangsheng", TODAY))
        assert "24" in ids(opened.search("黄帝内经", TODAY))
        assert "22" in ids(opened.search("tongshi", TODAY))
    finally:
        opened.close()


FORMAT_1 = Path(__file__).parent / "catalogue_format_1" / "catalogue.sqlite3"


def _format_1_catalogue(path):
    """A catalogue the first format's writer wrote (see catalogue_format_1/README.md)."""
    shutil.copyfile(FORMAT_1, path)


def test_a_catalogue_of_the_first_format_still_opens_and_searches(tmp_path):
    _format_1_catalogue(tmp_path / "catalogue.sqlite3")
    opened = Catalogue.open(tmp_path)
    try:
        assert ids(opened.search("hlm", TODAY)) == ["21"]
        assert ids(opened.search("楼梦", TODAY)) == ["21"]
        assert ids(opened.search("hdnj", TODAY)) == ["24"]
        assert opened.search_count("h", TODAY) == 2  # 红楼梦, 黃帝內經
        assert ids(opened.search("loumeng", TODAY)) == []  # format 1: from the start only
    finally:
        opened.close()


def test_titles_carried_from_a_first_format_catalogue_get_the_new_terms(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    _format_1_catalogue(old / "catalogue.sqlite3")
    write_catalogue(new / "catalogue.sqlite3", [], carried=["21", "23", "24"],
                    carried_from=old / "catalogue.sqlite3")
    opened = Catalogue.open(new)
    try:
        assert ids(opened.search("yangsheng", TODAY)) == ["23"]
        assert ids(opened.search("loumeng", TODAY)) == ["21"]
        assert ids(opened.search("黄帝内经", TODAY)) == ["24"]
        assert ids(opened.search("7-100-00000-9", TODAY)) == ["24"]  # its ISBN-10
    finally:
        opened.close()


# --- the publisher: optional, in a table of its own --------------------------------------

PUBLISHED = [replace(title("31", "红楼梦", "曹雪芹"), publisher="人民文学出版社"),
             title("32", "西游记", "吴承恩")]  # names none


def _written(folder, titles, *, without_publishers=False, **carry):
    """A catalogue file in `folder`; `without_publishers`: as a format-2 writer before the
    publisher wrote it (its schema had no such table)."""
    folder.mkdir(exist_ok=True)
    write_catalogue(folder / "catalogue.sqlite3", titles, **carry)
    if without_publishers:
        with sqlite3.connect(folder / "catalogue.sqlite3") as db:
            db.execute("DROP TABLE publishers")
    return folder / "catalogue.sqlite3"


def test_the_publisher_is_kept_and_read_wherever_titles_are(tmp_path):
    _written(tmp_path, PUBLISHED)
    opened = Catalogue.open(tmp_path)
    try:
        assert opened.get("31", TODAY).publisher == "人民文学出版社"
        assert opened.get("32", TODAY).publisher == ""
        assert [t.publisher for t in opened.search("hlm", TODAY)] == ["人民文学出版社"]
        assert {t.id: t.publisher for t in opened.browse(None, TODAY)} == {
            "31": "人民文学出版社", "32": ""}
        assert {t.id: t.publisher for t in opened.all_titles()} == {"31": "人民文学出版社",
                                                                    "32": ""}
    finally:
        opened.close()


@pytest.mark.parametrize("old_had_publishers", [True, False])
def test_carried_titles_keep_their_publisher_whatever_the_old_file(tmp_path,
                                                                   old_had_publishers):
    old = _written(tmp_path / "old", PUBLISHED, without_publishers=not old_had_publishers)
    new = tmp_path / "new"
    _written(new, [replace(title("33", "水浒传", "施耐庵"), publisher="中华书局")],
             carried=["31", "32"], carried_from=old)
    opened = Catalogue.open(new)
    try:
        assert {t.id: t.publisher for t in opened.all_titles()} == {
            "31": "人民文学出版社" if old_had_publishers else "", "32": "", "33": "中华书局"}
    finally:
        opened.close()


def test_an_older_release_copies_the_titles_of_a_catalogue_with_publishers(tmp_path):
    """A kiosk booted back into a release before the publisher copies `titles` as `SELECT *`
    into its own schema: the publisher must not have widened that table."""
    path = _written(tmp_path, PUBLISHED)
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(titles)")]
    assert columns == [*FIELDS, "sort_key"]


def test_counts_kept_in_the_file_agree_with_the_titles_found(tmp_path):
    """Short Latin and ISBN queries are counted when the file is written, per licence window;
    an ISBN typed with hyphens whose text a title holds is counted at search time."""
    many = [title(str(n), f"养生第{n}讲", "王医生", "life", isbn=f"978702{n:07d}",
                  valid=("2020-01-01", "2030-12-31" if n % 3 else "2026-11-24"))
            for n in range(40)]
    many.append(title("x", "978-7 指南", "ISBN Guide", "science", isbn="9791234567896"))
    write_catalogue(tmp_path / "catalogue.sqlite3", many)
    opened = Catalogue.open(tmp_path)
    try:
        for query in ["y", "ys", "yang", "wys", "9", "97", "9787", "978702", "978-7", "978-70",
                      "9 7", "isbn", "gu", "g", "978-7 ", "7", "978702000001"]:
            for today in (TODAY, "2026-11-24"):
                assert opened.search_count(query, today) == len(
                    opened.search(query, today, limit=1000)), (query, today)
        assert opened.search_count("978-7", TODAY) == 27  # 26 licensed today, and "x"
    finally:
        opened.close()
