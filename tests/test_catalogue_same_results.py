"""Format 3 finds what format 2 found: the same titles in the same order and the same counts,
for every query of tests/search_cases.py typed a key at a time, on a catalogue of 3,000 titles
(generated, classics and edge cases). The expected results were written by the code before
issue 20 (see tests/search_cases.py)."""

import json
from pathlib import Path

import pytest

from content.catalogue import Catalogue, write_catalogue
from tests import search_cases

GOLDEN = Path(__file__).parent / "catalogue_golden" / "results.json"


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    folder = tmp_path_factory.mktemp("same")
    write_catalogue(folder / "catalogue.sqlite3", search_cases.titles())
    opened = Catalogue.open(folder)
    yield search_cases.results(opened)
    opened.close()


def test_every_query_finds_what_the_format_2_catalogue_found(found):
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert found.keys() == expected.keys()
    differ = {q: (found[q], expected[q]) for q in expected if found[q] != expected[q]}
    assert differ == {}
