"""bench/catalogue_build.py: each of its child builds runs (the baseline's child had fallen
behind bench/search.py's TrigramBaseline, and the bench failed before timing anything)."""

import sqlite3

import pytest

from bench.catalogue_build import build


@pytest.mark.parametrize("kind", ["baseline", "catalogue"])
def test_each_child_build_writes_its_file(tmp_path, kind):
    wall, cpu, memory, size = build(kind, 50, "distinct", tmp_path / f"{kind}.sqlite3")
    assert wall > 0 and cpu > 0 and memory > 0 and size > 0
    db = sqlite3.connect(tmp_path / f"{kind}.sqlite3")
    try:
        table = "books" if kind == "baseline" else "titles"
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone() == (50,)
    finally:
        db.close()
