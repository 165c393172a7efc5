"""One licensed e-book title as the catalogue keeps it (see the batch contract in
ARCHITECTURE.md). Paths are relative to the catalogue version folder that holds the files."""

from __future__ import annotations

from dataclasses import dataclass, fields

FORMATS = {"epub": "application/epub+zip", "pdf": "application/pdf"}


@dataclass(frozen=True)
class Title:
    id: str  # stable across batches, e.g. "000123"
    isbn: str
    title: str
    author: str
    category: str  # a key of common.categories.CATEGORIES
    summary: str
    cover: str  # "covers/000123.jpg"
    file: str  # "books/000123.epub"
    size: int  # bytes of the file
    sha256: str  # of the file
    format: str  # a key of FORMATS
    valid_from: str  # ISO date, first day the licence allows
    valid_until: str  # ISO date, last day the licence allows
    added: str = ""  # the batch that first brought it, e.g. "2026-12" ("new this month")
    publisher: str = ""  # optional in batches and catalogues: "" when not given

    @classmethod
    def from_row(cls, row: tuple) -> "Title":
        """The title of a catalogue row, its values in field order (publisher may be left off).

        Equal to `Title(*row)` at half the cost: a search page builds 60 of them per keystroke,
        and a frozen dataclass's `__init__` sets each field through `object.__setattr__`."""
        title = object.__new__(cls)
        title.__dict__.update(zip(_FIELD_NAMES, row))
        return title

    def licensed_on(self, day: str) -> bool:
        """Whether the licence covers `day` (ISO date): outside it, never shown or served."""
        return self.valid_from <= day <= self.valid_until


_FIELD_NAMES = tuple(f.name for f in fields(Title))
