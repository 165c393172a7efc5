"""content.title.Title: the quick constructor the catalogue reads rows with."""

import dataclasses

import pytest

from content.title import Title

ROW = ("000123", "9787020002207", "红楼梦", "曹雪芹", "classics", "", "covers/000123.jpg",
       "books/000123.epub", 1000, "0" * 64, "epub", "2020-01-01", "2030-12-31", "2026-11")


@pytest.mark.parametrize("row", [ROW, (*ROW, "人民文学出版社")])
def test_a_title_from_a_row_is_the_title_made_the_usual_way(row):
    quick, usual = Title.from_row(row), Title(*row)
    assert quick == usual and hash(quick) == hash(usual) and repr(quick) == repr(usual)
    assert quick.publisher == usual.publisher
    assert dataclasses.replace(quick, publisher="x") == dataclasses.replace(usual, publisher="x")
    assert dataclasses.asdict(quick) == dataclasses.asdict(usual)


def test_a_title_from_a_row_stays_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Title.from_row(ROW).title = "西游记"  # type: ignore[misc]
