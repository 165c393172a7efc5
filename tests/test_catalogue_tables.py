"""A catalogue's tables, row for row: the build may get faster or leaner, never different.
tests/catalogue_golden/tables.json holds digests of each table written at commit 6e74076
(before the build's speed work of issue 20), over the 3,000 search-case titles and over
5,000 titles all different (a subtitle from a second draw, as bench/catalogue_build.py
makes them), which is past the size at which the build drops its dictionary and caches."""

import hashlib
import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from content.catalogue import write_catalogue
from tests import search_cases

GOLDEN = Path(__file__).parent / "catalogue_golden" / "tables.json"
TABLES = ("titles", "terms", "counts", "folds", "initials", "publishers")


def distinct(count: int) -> list:
    return [replace(title, title=f"{title.title}：{second.title}") for title, second in
            zip(search_cases.titles(count), search_cases.titles(count, seed=8))]


SETS = {"3000 search-case titles": lambda: search_cases.titles(),
        "5000 distinct titles": lambda: distinct(5000)}


def digests(path: Path) -> dict[str, str]:
    """Each table's rows in its key order (titles with their rowid, the shelf order)."""
    db = sqlite3.connect(path)
    try:
        out = {}
        for table in TABLES:
            digest = hashlib.sha256()
            rowid = "rowid, " if table == "titles" else ""
            for row in db.execute(f"SELECT {rowid}* FROM {table}"):
                digest.update(json.dumps(row, ensure_ascii=False).encode())
            out[table] = digest.hexdigest()
        return out
    finally:
        db.close()


@pytest.mark.parametrize("name", SETS)
def test_every_table_is_row_for_row_the_recorded_one(tmp_path, name):
    write_catalogue(tmp_path / "catalogue.sqlite3", SETS[name]())
    assert digests(tmp_path / "catalogue.sqlite3") == json.loads(GOLDEN.read_text())[name]


if __name__ == "__main__":  # records the digests: run from the commit named above
    import tempfile
    recorded = {}
    for name, made in SETS.items():
        folder = Path(tempfile.mkdtemp())
        write_catalogue(folder / "catalogue.sqlite3", made())
        recorded[name] = digests(folder / "catalogue.sqlite3")
    GOLDEN.write_text(json.dumps(recorded, indent=1) + "\n")
