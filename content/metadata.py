"""The metadata sheet staff fill in for a batch, one title per row, as Excel or WPS on a Chinese
PC saves it: metadata.xlsx, metadata.csv (UTF-8, GB18030 or UTF-16) or metadata.txt (Excel's
"Unicode text": UTF-16, tab-separated), looked for in that order whatever the capitals.

Every problem is a Problem naming the row (as the spreadsheet shows it, header = 1), the
column, and the fix, in Chinese and then English; all of them are reported at once, so staff
fix the sheet in one go.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from common.categories import CATEGORIES
from content.errors import BatchError
from content.isbn import normalise_isbn
from content.manifest import ACTIONS, TITLE_ID
from content.staff_text import CellValueError, bilingual

REQUIRED = ("id", "title", "author", "category", "file", "valid_from", "valid_until")
# The Chinese names librarians write over each column, the first being the one messages use;
# the English name (`valid_from`) is accepted too. Capitals, spaces, `_` and `-` do not count,
# full-width letters are read as half-width, and a note in brackets ("书名（必填）") is allowed.
COLUMN_NAMES = {"id": ("编号", "书目编号"), "isbn": ("ISBN", "书号"), "title": ("书名", "题名"),
                "author": ("作者", "著者"), "publisher": ("出版社", "出版者"),
                "category": ("分类", "类别"),
                "summary": ("简介", "内容简介"), "file": ("文件", "电子书文件"),
                "cover": ("封面", "封面图片"),
                "valid_from": ("授权开始日期", "授权开始", "生效日期"),
                "valid_until": ("授权结束日期", "授权截止日期", "授权截止", "到期日期"),
                "action": ("操作", "动作")}
COLUMN_NAMES_ZH = {column: names[0] for column, names in COLUMN_NAMES.items()}
CATEGORY_NAMES = {name.lower(): key for key, names in CATEGORIES.items()
                  for name in (key, *names)}
ACTION_NAMES = {**{action: action for action in ACTIONS},
                "新增": "add", "更新": "update", "下架": "withdraw"}
SHEET_NAMES = ("metadata.xlsx", "metadata.csv", "metadata.txt")  # the first found is read
UNREADABLE_KINDS = (".xls", ".et", ".ods", ".numbers")  # workbooks saved in other formats
SAVE_AS_ZH = ("请用 Excel 或 WPS 打开它，选 文件 → 另存为，保存类型选“CSV UTF-8（逗号分隔）”，"
              "文件名为 metadata.csv（或保存为 Excel 工作簿 metadata.xlsx）。")
SAVE_AS_EN = ("open it in Excel or WPS, choose File > Save As, and save it as "
              "\"CSV UTF-8 (Comma delimited)\" named metadata.csv (or as an Excel workbook, "
              "metadata.xlsx).")
DATE_FORMS_ZH = "请写成 2026-01-01 或 2026/1/1（年/月/日）"
DATE_FORMS_EN = "write it as 2026-01-01 or 2026/1/1 (year/month/day)"
# Year, month, day as Excel and WPS write them in a Chinese locale, maybe with a time of day.
_CHINESE_LOCALE_DATE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_EXCEL_DAY_NUMBER = re.compile(r"^\d{5}(?:\.0*)?$")  # a date cell formatted as a number
_EXCEL_DAY_ZERO = dt.date(1899, 12, 30)
_ENCODING_NAMES = {"utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-8-sig": "UTF-8",
                   "gb18030": "GB18030"}


class SheetError(BatchError):
    """The sheet as a whole cannot be read; the message says how to save it."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(bilingual(zh, en))


class SheetDateError(CellValueError):
    """A cell that is not a date; `zh` and `en` say the forms it may take."""


@dataclass(frozen=True)
class Row:
    number: int  # as the spreadsheet shows it, header = 1
    values: dict[str, str]


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell, and the fix."""
    row: int
    column: str
    zh: str
    en: str

    def __str__(self) -> str:
        return bilingual(f"第 {self.row} 行 {self.column} 列：{self.zh}",
                         f"row {self.row}, {self.column}: {self.en}")


@dataclass(frozen=True)
class Sheet:
    rows: list[Row]
    name: str  # the file read: "metadata.csv"
    description: str  # and how: "metadata.csv (UTF-8)"
    warnings: tuple[str, ...]  # other sheets found and not read


def read_sheet(src: Path) -> Sheet:
    """The first of SHEET_NAMES found in SRC; a refusal says how to save one we can read."""
    if not src.is_dir():
        raise SheetError(f"找不到批次文件夹 {src}：请检查路径。",
                         f"the batch folder {src} is not there: check the path.")
    found = {path.name.lower(): path for path in src.iterdir() if path.is_file()}
    present = [found[name] for name in SHEET_NAMES if name in found]
    if present:
        path = present[0]
        if path.suffix.lower() == ".xlsx":
            rows, description = _xlsx(path), path.name
        else:
            rows, description = _csv(path)
        return Sheet(rows, path.name, description, tuple(
            bilingual(f"读取了 {path.name}，没有读取 {other.name}：请删除不用的表，以免改错文件。",
                      f"Read {path.name} and not {other.name}: delete the sheet you do not "
                      "use, so that nobody edits the wrong one.")
            for other in present[1:]))
    for kind in UNREADABLE_KINDS:
        if (workbook := found.get("metadata" + kind)) is not None:
            raise SheetError(f"本工具读不了 {kind} 格式的 {workbook.name}：{SAVE_AS_ZH}",
                             f"{workbook.name}: this tool cannot read {kind} files; "
                             + SAVE_AS_EN)
    raise SheetError(f"{src} 里没有元数据表：请放入 metadata.xlsx、metadata.csv 或 metadata.txt"
                     "（第一行是列名，每本书一行）。",
                     f"{src} has no metadata sheet: put metadata.xlsx, metadata.csv or "
                     "metadata.txt in it (the column names in the first row, a title a row).")


def _csv(path: Path) -> tuple[list[Row], str]:
    """A CSV, or Excel's "Unicode text" (tabs); (rows, how it was read)."""
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise SheetError(f"{path.name} 其实是 Excel 工作簿，不是文本：请把它改名为 metadata.xlsx，"
                         f"或者{SAVE_AS_ZH}",
                         f"{path.name} is an Excel workbook, not text: rename it "
                         f"metadata.xlsx, or {SAVE_AS_EN}")
    text, encoding = _decode(data)
    if text is None or "\x00" in text:
        raise SheetError(f"{path.name} 无法作为文本读取（不是 UTF-8、UTF-16 或 GB18030）："
                         + SAVE_AS_ZH,
                         f"{path.name} cannot be read as text (it is not UTF-8, UTF-16 or "
                         f"GB18030): {SAVE_AS_EN}")
    delimiter = "\t" if "\t" in text.partition("\n")[0] else ","
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as e:  # a line end inside a field the reader cannot place
        raise SheetError(f"{path.name} 无法按 CSV 读取（{e}）：{SAVE_AS_ZH}",
                         f"{path.name} cannot be read as CSV ({e}): {SAVE_AS_EN}") from None
    how = encoding + (", Tab" if delimiter == "\t" else "")
    return _rows(table, path.name), f"{path.name} ({how})"


def _decode(data: bytes) -> tuple[str | None, str]:
    """The text and the name of its encoding, or None when it is none we know."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        attempts = ["utf-16"]
    elif data[1:200:2].count(0) > len(data[:200]) // 4:  # ASCII as UTF-16 without a BOM
        attempts = ["utf-16-le"]
    else:
        attempts = ["utf-8-sig", "gb18030"]
    for encoding in attempts:
        try:
            return data.decode(encoding), _ENCODING_NAMES[encoding]
        except UnicodeDecodeError:
            continue
    return None, ""


def _xlsx(path: Path) -> list[Row]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise SheetError(f"{path.name} 无法作为 Excel 工作簿读取（{e}）：{SAVE_AS_ZH}",
                         f"{path.name} cannot be read as a workbook ({e}): {SAVE_AS_EN}") \
            from None
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


def _column_key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", unicodedata.normalize("NFKC", name)).lower()


_COLUMN_KEYS = {_column_key(written): column for column, names in COLUMN_NAMES.items()
                for written in (column, *names)}


def column_of(header: str) -> str | None:
    """The column a header cell names, in Chinese or English; None for one we do not know."""
    text = _column_key(header)
    before, _, note = text.partition("(")
    for candidate in (text, before, note.removesuffix(")")):
        if candidate in _COLUMN_KEYS:
            return _COLUMN_KEYS[candidate]
    return None


def _names_zh(columns: tuple[str, ...]) -> str:
    """Columns in a Chinese message: 书名/题名（title）、…"""
    return "、".join("/".join(COLUMN_NAMES[c]) + f"（{c}）" for c in columns)


def _names_en(columns: tuple[str, ...]) -> str:
    """Columns in an English message: title (书名, 题名), …"""
    return ", ".join(f"{c} ({', '.join(COLUMN_NAMES[c])})" for c in columns)


def _rows(table: list[list[str]], name: str) -> list[Row]:
    every = tuple(COLUMN_NAMES)  # in the order the sheet usually has them
    if not any(c.strip() for cells in table for c in cells):
        raise SheetError(f"{name} 是空的：第一行写列名（{_names_zh(every)}），下面每本书一行。",
                         f"{name} is empty: write the column names ({_names_en(every)}) in the "
                         "first row, and a title in each row below.")
    header = [column_of(h) for h in table[0]]
    unknown = [h.strip() for h, column in zip(table[0], header) if h.strip() and not column]
    if unknown:
        raise SheetError(
            f"{name} 第一行有不认识的列名" + "、".join(f"“{h}”" for h in unknown)
            + f"：请改成下列列名之一，或删除这一列：{_names_zh(every)}。",
            f"{name}: the first row has column names this tool does not know ("
            + ", ".join(repr(h) for h in unknown) + "): rename each to one of these, or "
            f"delete the column: {_names_en(every)}.")
    for column in every:
        same = [h.strip() for h, found in zip(table[0], header) if found == column]
        if len(same) > 1:
            raise SheetError(f"{name} 的“{same[0]}”和“{same[1]}”两列都是{COLUMN_NAMES_ZH[column]}"
                             f"（{column}）：请只保留一列。",
                             f"{name}: the columns {same[0]!r} and {same[1]!r} both mean "
                             f"{column}: keep one of them.")
    missing = tuple(column for column in REQUIRED if column not in header)
    if missing:
        raise SheetError(f"{name} 缺少列 {_names_zh(missing)}：第一行必须是列名："
                         f"{_names_zh(every)}。",
                         f"{name} lacks the column(s) {_names_en(missing)}: its first row must "
                         f"name the columns: {_names_en(every)}.")
    rows = []
    for number, cells in enumerate(table[1:], 2):
        if not any(c.strip() for c in cells):
            continue
        values = {column: (cells[i].strip() if i < len(cells) else "")
                  for i, column in enumerate(header) if column}
        rows.append(Row(number, values))
    return rows


def check_row(row: Row) -> list[Problem]:
    """What is wrong with one row; normalises its values in place."""
    v, problems = row.values, []

    def bad(column: str, zh: str, en: str) -> None:
        problems.append(Problem(row.number, column, zh, en))

    action = ACTION_NAMES.get((v.get("action") or "add").lower())
    if not TITLE_ID.match(v.get("id", "")):
        bad("id", f"“{v.get('id', '')}”不是可用的编号：只能用字母、数字、- 和 _，最多 64 个。",
            f"{v.get('id', '')!r} is not an id: use letters, digits, - and _ only, at most 64.")
    if action is None:
        bad("action", f"“{v['action']}”不是可用的操作：请填 新增（add）、更新（update）或 下架"
            "（withdraw），留空即为新增。",
            f"{v['action']!r} is not add, update or withdraw: write one of them, or leave "
            "it empty to add.")
    v["action"] = action or v.get("action", "")
    if action == "withdraw":
        return problems
    for column in REQUIRED:
        if not v.get(column):
            bad(column, f"空着：请填写{COLUMN_NAMES_ZH[column]}。", f"empty: fill in the {column}.")
    category = CATEGORY_NAMES.get(v.get("category", "").lower())
    if v.get("category") and category is None:
        bad("category", f"“{v['category']}”不是可用的分类：请填 "
            + "、".join(zh for zh, _en in CATEGORIES.values()) + "之一（或英文 "
            + ", ".join(CATEGORIES) + "）。",
            f"{v['category']!r} is not a category: write one of "
            + ", ".join(f"{key} ({zh})" for key, (zh, _en) in CATEGORIES.items()) + ".")
    v["category"] = category or v.get("category", "")
    dates_good = True
    for column in ("valid_from", "valid_until"):
        if v.get(column):
            try:
                v[column] = sheet_date(v[column])
            except CellValueError as e:
                bad(column, e.zh, e.en)
                dates_good = False
    if dates_good and v.get("valid_from", "") > v.get("valid_until", "~"):
        bad("valid_until", "授权结束日期早于开始日期：请检查 valid_from 和 valid_until。",
            "the licence ends before it starts: check valid_from and valid_until.")
    try:
        v["isbn"] = normalise_isbn(v.get("isbn", ""))
    except CellValueError as e:
        bad("isbn", e.zh, e.en)
    return problems


def sheet_date(typed: str) -> str:
    """A licence date as YYYY-MM-DD, the one form the catalogue compares: from 2026/1/1 and
    the other forms Excel writes in a Chinese locale, or any ISO form (20261201)."""
    text = unicodedata.normalize("NFKC", typed).strip()
    if _EXCEL_DAY_NUMBER.match(text):
        day = (_EXCEL_DAY_ZERO + dt.timedelta(days=int(float(text)))).isoformat()
        raise SheetDateError(
            f"“{typed}”是 Excel 的日期序号（即 {day}）：请把这一列的单元格格式设为“日期”，"
            f"或直接写成 {day}。",
            f"{typed!r} is Excel's day number for {day}: format the column as a date "
            f"(Format Cells > Date), or write {day}.")
    try:
        if found := _CHINESE_LOCALE_DATE.match(text):
            return dt.date(*map(int, found.groups())).isoformat()
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise SheetDateError(f"“{typed}”不是日期：{DATE_FORMS_ZH}。",
                             f"{typed!r} is not a date: {DATE_FORMS_EN}.") from None
