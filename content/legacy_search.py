"""Search in a catalogue file of format 1 or 2, as those formats were searched: a kiosk updated
before its next batch keeps its old catalogue until that batch comes, and still searches it.

These files have no one-or-two-character index (such a query scans the titles) and no table
of initials: a query of characters then letters ("红l") finds what its text finds, no more,
since reading its characters' pinyin would need the dictionary the kiosk does not load. The
next batch applied writes the current format. Runs on the thread that opened the catalogue.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Callable, Iterable

from content.catalogue_terms import INNER_KINDS, KINDS, starts_with

TRIGRAM = 3  # the FTS5 trigram tokenizer matches substrings of at least this many characters


class LegacySearch:
    def __init__(self, db: sqlite3.Connection, version: int) -> None:
        self._db = db
        self._inner = INNER_KINDS if version >= 2 else range(0)
        self._kinds = (*KINDS, *self._inner)

    def ids(self, term: str, text: str, today: str, limit: int) -> list[str]:
        """Ids of the titles found, best first (see Catalogue.search)."""
        found: list[str] = []
        seen: set[str] = set()

        def take(ids: Iterable[str]) -> None:
            for title_id in ids:
                if title_id not in seen and len(found) < limit:
                    seen.add(title_id)
                    found.append(title_id)

        steps: list[Callable[[], list[str]]] = [
            *(partial(self._matching, kind, "k.term = ?2", term, today, limit) for kind in KINDS),
            *(partial(self._matching, kind, "k.term > ?2 AND k.term < ?2 || char(1114111)", term,
                      today, 2 * limit) for kind in KINDS),
            *(partial(self._matching, kind, starts_with("?2"), term, today, 2 * limit)
              for kind in self._inner),
            partial(self._containing, text, today, 2 * limit)]
        for step in steps:
            if len(found) >= limit:
                break
            take(step())
        return found

    def count(self, term: str, text: str, today: str) -> int:
        kinds = ", ".join(str(kind) for kind in self._kinds)
        condition, pattern = _contains_condition(text)
        return int(self._db.execute(
            "SELECT count(*) FROM titles t WHERE t.id IN ("
            f"SELECT k.id FROM terms k WHERE k.kind IN ({kinds}) AND {starts_with('?4')} "
            f"UNION SELECT w.id FROM words w WHERE {condition}) "
            "AND t.valid_from <= ?3 AND t.valid_until >= ?3",
            (text, pattern, today, term)).fetchone()[0])

    def _matching(self, kind: int, condition: str, term: str, today: str,
                  limit: int) -> list[str]:
        return [row[0] for row in self._db.execute(
            "SELECT k.id FROM terms k JOIN titles t ON t.id = k.id "
            f"WHERE k.kind = ?1 AND {condition} "
            "AND t.valid_from <= ?3 AND t.valid_until >= ?3 ORDER BY k.term, t.sort_key LIMIT ?4",
            (kind, term, today, limit))]

    def _containing(self, text: str, today: str, limit: int) -> list[str]:
        match, pattern = _contains_condition(text)
        return [row[0] for row in self._db.execute(
            f"SELECT w.id FROM words w JOIN titles t ON t.id = w.id WHERE {match} "
            "AND t.valid_from <= ?3 AND t.valid_until >= ?3 "
            "ORDER BY instr(w.title, ?1) = 0, t.sort_key LIMIT ?4", (text, pattern, today, limit))]


def _contains_condition(text: str) -> tuple[str, str]:
    """The condition on `words w` for titles or authors containing ?1 (the text), and ?2,
    the pattern bound for it."""
    if len(text) >= TRIGRAM:
        return "words MATCH ?2", '"' + text.replace('"', '""') + '"'  # one phrase: quotes are text
    return "(instr(w.title, ?1) > 0 OR instr(w.author, ?1) > 0)", text
