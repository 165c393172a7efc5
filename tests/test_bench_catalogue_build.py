"""bench/catalogue_build.py: each of its child builds runs (the baseline's child had fallen
behind bench/search.py's TrigramBaseline, and the bench failed before timing anything), from
the titles the parent wrote once, the same titles the generator made."""

import sqlite3

import pytest

from bench.catalogue_build import TITLE_SETS, build, titles_from, write_titles


@pytest.fixture
def titles_file(tmp_path):
    path = tmp_path / "titles.sqlite3"
    write_titles(path, TITLE_SETS["distinct"](60))
    return path


def test_a_titles_file_gives_back_the_generators_titles(titles_file):
    assert list(titles_from(titles_file)(60)) == list(TITLE_SETS["distinct"](60))
    assert list(titles_from(titles_file)(5)) == list(TITLE_SETS["distinct"](5))


@pytest.mark.parametrize("kind", ["baseline", "catalogue"])
def test_each_child_build_writes_its_file(tmp_path, titles_file, kind):
    wall, cpu, memory, size = build(kind, 50, titles_file, tmp_path / f"{kind}.sqlite3")
    assert wall > 0 and cpu > 0 and memory > 0 and size > 0
    db = sqlite3.connect(tmp_path / f"{kind}.sqlite3")
    try:
        table = "books" if kind == "baseline" else "titles"
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (50,)
    finally:
        db.close()


def test_the_input_child_only_reads_the_titles(tmp_path, titles_file):
    wall, cpu, memory, size = build("input", 60, titles_file, tmp_path / "input.done")
    assert wall > 0 and memory > 0 and size == 0
    assert (tmp_path / "input.done").exists()
