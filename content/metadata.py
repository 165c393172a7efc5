"""The metadata sheet staff fill in for a batch: metadata.csv (UTF-8, or GB18030 as Excel in
China saves it) or metadata.xlsx, one title per row. Every problem is reported with its row
and column, all at once, so staff fix the sheet in one go."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from content.errors import BatchError
from content.manifest import ACTIONS, TITLE_ID
from content.title import CATEGORIES

REQUIRED = ("id", "title", "author", "category", "file", "valid_from", "valid_until")
OPTIONAL = ("isbn", "summary", "cover", "action")
CATEGORY_NAMES = {name.lower(): key for key, names in CATEGORIES.items()
                  for name in (key, *names)}


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it, header = 1
    values: dict[str, str]


def read_sheet(src: Path) -> tuple[list[Row], str]:
    """(rows, how the sheet was read) from SRC/metadata.xlsx or SRC/metadata.csv."""
    if (src / "metadata.xlsx").is_file():
        return _xlsx(src / "metadata.xlsx"), "metadata.xlsx"
    if (src / "metadata.csv").is_file():
        return _csv(src / "metadata.csv")
    raise BatchError(f"{src} has no metadata.csv or metadata.xlsx")


def _csv(path: Path) -> tuple[list[Row], str]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise BatchError(f"{path.name} is neither UTF-8 nor GB18030 text")
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:  # a NUL, a line end inside a field the reader cannot place
        raise BatchError(f"{path.name} cannot be read as CSV: {e}") from None
    name = "UTF-8" if encoding == "utf-8-sig" else "GB18030"
    return _rows(table, path.name), f"{path.name} ({name})"


def _xlsx(path: Path) -> list[Row]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise BatchError(f"{path.name} cannot be read as a spreadsheet: {e}") from None
    try:
        table = [[_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    return _rows(table, path.name)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an ISBN typed as a number
    return str(value)


def _rows(table: list[list[str]], name: str) -> list[Row]:
    if not table:
        raise BatchError(f"{name} is empty")
    header = [h.strip().lower() for h in table[0]]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise BatchError(f"{name} lacks the column(s) {', '.join(missing)}; the first row "
                         f"must name the columns: {', '.join(REQUIRED + OPTIONAL)}")
    rows = []
    for number, cells in enumerate(table[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        values = {column: (cells[i].strip() if i < len(cells) else "")
                  for i, column in enumerate(header) if column in REQUIRED + OPTIONAL}
        rows.append(Row(number, values))
    return rows


def check_row(row: Row) -> list[str]:
    """What is wrong with one row, as "row N, column: problem" lines; normalises in place."""
    v, problems = row.values, []

    def bad(column: str, problem: str) -> None:
        problems.append(f"row {row.number}, {column}: {problem}")

    v["action"] = (v.get("action") or "add").lower()
    if not TITLE_ID.match(v.get("id", "")):
        bad("id", f"{v.get('id')!r} is not an id (letters, digits, - and _)")
    if v["action"] not in ACTIONS:
        bad("action", f"{v['action']!r} is not add, update or withdraw")
    if v["action"] == "withdraw":
        return problems
    for column in REQUIRED:
        if not v.get(column):
            bad(column, "empty")
    category = CATEGORY_NAMES.get(v.get("category", "").lower())
    if v.get("category") and category is None:
        bad("category", f"{v['category']!r} is not one of {', '.join(CATEGORIES)}")
    v["category"] = category or v.get("category", "")
    for column in ("valid_from", "valid_until"):
        try:
            # YYYY-MM-DD whatever ISO form staff typed: licence dates are compared as text.
            v[column] = dt.date.fromisoformat(v.get(column, "")).isoformat()
        except ValueError:
            if v.get(column):
                bad(column, f"{v[column]!r} is not a date like 2026-12-01")
    if v.get("valid_from", "") > v.get("valid_until", "~"):
        bad("valid_until", "the licence ends before it starts")
    v["isbn"] = "".join(c for c in v.get("isbn", "") if c.isalnum())
    return problems
