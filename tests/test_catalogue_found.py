"""The count a search screen shows: exact when the file holds it, otherwise counted at search
time up to a cap and then said as "more than" the cap, never a wrong number. Checked against
the exact count for every query of tests/search_cases.py typed a key at a time, on a catalogue
in two licence windows (counts kept in the file) and one with a window per title (none kept)."""

from dataclasses import replace

import pytest

from content.catalogue import Catalogue, Found, write_catalogue
from tests import search_cases

CAPS = (1, 7, 60)


def _opened(folder, titles):
    write_catalogue(folder / "catalogue.sqlite3", titles)
    return Catalogue.open(folder)


@pytest.fixture(scope="module", params=["few windows", "a window per title"])
def catalogue(request, tmp_path_factory):
    titles = search_cases.titles(1200)
    if request.param == "a window per title":
        titles = [replace(t, valid_from=f"2020-01-{1 + n % 28:02d}",
                          valid_until=f"2026-{1 + n % 12:02d}-{1 + n % 27:02d}")
                  for n, t in enumerate(titles)]
    opened = _opened(tmp_path_factory.mktemp("found"), titles)
    yield opened
    opened.close()


def _queries():
    return [q for query in search_cases.QUERIES for q in search_cases.typed(query)]


@pytest.mark.parametrize("today", [search_cases.TODAY, "2026-03-05"])
def test_a_capped_count_is_exact_or_says_more_than_the_cap(catalogue, today):
    for query in _queries():
        exact = catalogue.search_count(query, today)
        assert catalogue.found(query, today, cap=None) == Found(exact), query
        for cap in CAPS:
            found = catalogue.found(query, today, cap=cap)
            if found.more:
                assert (found.titles, exact > cap) == (cap, True), (query, cap)
            else:
                assert found.titles == exact, (query, cap)


def test_only_counts_made_at_search_time_are_capped(tmp_path):
    """One letter is counted when the file is written (few windows): exact however many;
    "红l" is counted at search time: capped."""
    opened = _opened(tmp_path, search_cases.titles(1200))
    try:
        assert opened.found("h", search_cases.TODAY, cap=1) == Found(
            opened.search_count("h", search_cases.TODAY))
        assert opened.search_count("红l", search_cases.TODAY) > 1
        assert opened.found("红l", search_cases.TODAY, cap=1) == Found(1, more=True)
    finally:
        opened.close()
