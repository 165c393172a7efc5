"""Search never scans the titles: every statement `search`, `search_count` and `found` run,
for every kind of query, is planned as index lookups (EXPLAIN QUERY PLAN), and the result page
comes out of the index in order, never sorted afterwards. Statements are caught as SQLite runs
them."""

import re

import pytest

from tests.catalogue_trace import small_catalogue, statements
from tests.search_cases import TODAY

QUERIES = {"1 character": "红", "2 characters": "红楼", "3 characters": "红楼梦",
           "pinyin": "honglou", "initials": "hlm", "mixed": "红l", "ISBN": "978-7-02",
           "author": "曹雪芹", "author pinyin": "caoxueqin", "one letter": "h", "one digit": "9",
           "Latin": "py", "nothing": "zzzz"}
# A full scan: of a table, or of a virtual table with no MATCH constraint (FTS5's idxStr
# holds "M" when a MATCH is used).
SCAN = re.compile(r"\bSCAN (?!CONSTANT ROW|\()")
MATCHED = re.compile(r"VIRTUAL TABLE INDEX \d+:\S*M")


def scans(step):
    return SCAN.search(step) is not None and MATCHED.search(step) is None


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    yield from small_catalogue(tmp_path_factory.mktemp("plans"))


def plan(catalogue, sql):
    return [row[3] for row in catalogue._db.execute(f"EXPLAIN QUERY PLAN {sql}")]


@pytest.mark.parametrize("kind", QUERIES)
def test_no_kind_of_query_scans_a_table(catalogue, kind):
    query = QUERIES[kind]
    for call in (lambda: catalogue.search(query, TODAY),
                 lambda: catalogue.search_count(query, TODAY),
                 lambda: catalogue.found(query, TODAY, cap=5)):
        _, run = statements(catalogue, call)
        assert run
        for sql in run:
            steps = plan(catalogue, sql)
            assert not [s for s in steps if scans(s)], (sql, steps)


@pytest.mark.parametrize("kind", QUERIES)
def test_results_come_out_of_the_index_in_order(catalogue, kind):
    for sql in statements(catalogue, lambda: catalogue.search(QUERIES[kind], TODAY))[1]:
        steps = plan(catalogue, sql)
        assert not [s for s in steps if "TEMP B-TREE FOR ORDER BY" in s], (sql, steps)
