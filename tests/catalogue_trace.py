"""A small catalogue of the search cases' titles, and the statements SQLite runs for a call on
it (caught as they run, bound values written into the text), for the tests that count them or
look at their query plans."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from content.catalogue import Catalogue, write_catalogue
from tests.search_cases import titles

T = TypeVar("T")
FTS5_SETTINGS = re.compile(r"'main'\.'\w+_config'")  # FTS5 reading its own settings


def small_catalogue(folder: Path, count: int = 600) -> Iterator[Catalogue]:
    write_catalogue(folder / "catalogue.sqlite3", titles(count))
    opened = Catalogue.open(folder)
    yield opened
    opened.close()


def statements(catalogue: Catalogue, call: Callable[[], T]) -> tuple[T, list[str]]:
    """What `call` returned, and the queries it ran (not FTS5's own inside a MATCH)."""
    seen: list[str] = []
    catalogue._db.set_trace_callback(seen.append)
    try:
        result = call()
    finally:
        catalogue._db.set_trace_callback(None)
    return result, [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))
                    and not FTS5_SETTINGS.search(s)]
