"""Messages a librarian reads while preparing a batch: Chinese first, then English."""

from __future__ import annotations


def bilingual(zh: str, en: str) -> str:
    """The Chinese line, then the English one under it."""
    return f"{zh}\n  {en}"


class CellValueError(ValueError):
    """A value in the metadata sheet that cannot be right; `zh` and `en` say why and what to
    write instead, for the row and column the caller names."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en
