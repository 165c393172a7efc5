"""A keystroke's search runs few statements: the exact matches come with a row saying which
later match tiers have any term in their range, and a tier with none is never run. A query
finding one title or none (a full name, an author's pinyin, an ISBN) then costs two
statements, not one per kind of term (twelve for pinyin), while every query finds what it
found before (tests/test_catalogue_same_results.py). Statements are caught as SQLite runs
them; the ones FTS5 runs inside a MATCH are not counted."""

import pytest

from tests.catalogue_trace import small_catalogue, statements
from tests.search_cases import TODAY

# Queries finding one or two titles or none in the catalogue below, by kind.
FEW = {"title": "红楼梦魇", "author": "曹雪芹", "author pinyin": "caoxueqin",
       "title pinyin": "zhangailing", "ISBN": "9787999999999", "nothing": "zzzzqq",
       "3+ characters, none": "养生之道理"}
MOST_STATEMENTS = 2  # the exact matches and which tiers have terms; the titles containing it


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    yield from small_catalogue(tmp_path_factory.mktemp("statements"))


@pytest.mark.parametrize("kind", FEW)
def test_a_query_finding_few_titles_runs_few_statements(catalogue, kind):
    found, run = statements(catalogue, lambda: catalogue.search(FEW[kind], TODAY))
    assert len(found) <= 2
    assert len(run) <= MOST_STATEMENTS, run


def test_a_full_page_still_stops_at_the_tier_that_fills_it(catalogue):
    found, run = statements(catalogue, lambda: catalogue.search("h", TODAY, limit=5))
    assert len(found) == 5
    assert len(run) <= 3
