"""The metadata sheet as staff make it in Excel or WPS on a Chinese PC: ISBNs checked, dates
as Excel writes them, the "Unicode text" save read; every problem and warning named by row and
column, in Chinese first and then English, with the fix."""

import datetime as dt
import json
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.categories import CATEGORIES
from content.build import build_batch
from content.catalogue import Catalogue
from content.errors import BatchError
from content.metadata import SheetDateError, sheet_date
from content.signing import keygen
from content.store import CatalogueStore
from tests.conftest import ROOT
from tests.property_budget import PARSER_BUDGET

COLUMNS = ("id", "isbn", "title", "author", "category", "summary", "file", "cover",
           "valid_from", "valid_until", "action")
GOOD = {"id": "a1", "title": "乡村医生手册", "author": "王伟", "category": "健康养生",
        "file": "a.pdf", "valid_from": "2026-01-01", "valid_until": "2027-12-31"}


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    folder = tmp_path_factory.mktemp("key")
    keygen(folder / "k", folder / "k.pub")
    return folder / "k"


def source(tmp_path, rows, *, name="metadata.csv", encoding="utf-8-sig", sep=",",
           files=("a.pdf",), header=COLUMNS):
    """A staff folder: small PDFs and a sheet with a row for each dict (over GOOD), under
    `header` (the names staff wrote for COLUMNS)."""
    src = tmp_path / "src"
    src.mkdir(parents=True)
    for file in files:
        (src / file).parent.mkdir(parents=True, exist_ok=True)
        (src / file).write_bytes(b"%PDF-1.4\n%small\n")
    table = [sep.join(header)]
    for n, changes in enumerate(rows, 1):
        values = {**GOOD, "id": f"a{n}", **changes}
        table.append(sep.join(values.get(column, "") for column in COLUMNS))
    (src / name).write_bytes(("\r\n".join(table) + "\r\n").encode(encoding))
    return src


def refusal(src, key, tmp_path) -> str:
    with pytest.raises(BatchError) as refused:
        build_batch(src, tmp_path / "out", key, "2026-12")
    assert not (tmp_path / "out").exists()
    return str(refused.value)


def problem(message: str, row: int, column: str) -> tuple[str, str]:
    """The Chinese line and the English line under it that name this row and column."""
    found = re.search(rf"^ *(第 {row} 行 {column} 列：.*)\n *(row {row}, {column}: .*)$",
                      message, re.MULTILINE)
    assert found, f"no row {row}, {column} in:\n{message}"
    return found.group(1), found.group(2)


def titles(out):
    return json.loads((out / "manifest.json").read_text("utf-8"))["titles"]


def test_wrong_isbns_are_named_by_row_and_column_with_the_fix(tmp_path, key):
    src = source(tmp_path, [{"isbn": "12345"}, {"isbn": "ISBN abc"},
                            {"isbn": "978-7-02-000220-8"}, {"isbn": "9.78702000022e12"},
                            {"isbn": ""}, {"isbn": "ISBN 978-7-02-000220-7"}])
    message = refusal(src, key, tmp_path)
    assert message.startswith("元数据表") and "4 problems" in message
    zh, en = problem(message, 2, "isbn")
    assert "10 位或 13 位" in zh and "has 5 digits; an ISBN has 10 or 13" in en
    zh, en = problem(message, 3, "isbn")
    assert "abc" in zh and "'ISBN abc' holds characters an ISBN has not" in en
    zh, en = problem(message, 4, "isbn")
    assert "校验位" in zh and "check digit" in en
    zh, en = problem(message, 5, "isbn")
    assert "文本" in zh and "format the column as Text in Excel/WPS" in en
    assert "row 6" not in message and "row 7" not in message


def test_an_isbn_is_kept_as_digits_and_found_with_or_without_hyphens(tmp_path, key):
    src = source(tmp_path, [{"isbn": "ISBN 978-7-02-000220-7"}, {"isbn": "0-8044-2957-x"}])
    build_batch(src, tmp_path / "out", key, "2026-12")
    assert [t["isbn"] for t in titles(tmp_path / "out")] == ["9787020002207", "080442957X"]
    public = key.parent / "k.pub"
    store = CatalogueStore(tmp_path / "catalogue")
    store.apply(tmp_path / "out", public)
    catalogue = Catalogue.open(store.current_dir())
    for query, found in (("978-7-02-000220-7", "a1"), ("9787020002207", "a1"),
                         ("0-8044-2957-X", "a2"), ("080442957x", "a2")):
        assert [t.id for t in catalogue.search(query, "2026-06-01")] == [found], query


def test_shared_isbns_and_files_the_sheet_never_names_are_warnings(tmp_path, key):
    files = ("a.pdf", "b.pdf", "c.pdf", "books/extra.epub", "covers/old.jpg", ".DS_Store",
             "~$metadata.xlsx", "books/Thumbs.db")
    src = source(tmp_path, [{"isbn": "978-7-02-000220-7"}, {"isbn": "9787111111115"},
                            {"isbn": "9787020002207", "file": "b.pdf"},
                            {"id": "gone", "action": "withdraw"},
                            {"isbn": "0-306-40615-2", "file": "c.pdf"},
                            {"isbn": "978-0-306-40615-7"}], files=files)
    report = build_batch(src, tmp_path / "out", key, "2026-12")
    assert report.added == 5  # warnings do not stop the build
    shared, other, unnamed = report.warnings
    assert shared.startswith("第 2、4 行的 ISBN 相同（9787020002207）")
    assert "\n  rows 2 and 4 share the ISBN 9787020002207" in shared
    assert "第 6、7 行" in other and "rows 6 and 7 share the ISBN 9780306406157" in other
    assert unnamed.startswith("文件夹里有 2 个文件表里没有用到")
    assert "2 files in the folder are not named by the sheet" in unnamed
    assert "books/extra.epub" in unnamed and "covers/old.jpg" in unnamed
    for hidden in (".DS_Store", "~$", "Thumbs.db", "metadata.csv", "a.pdf"):
        assert hidden not in unnamed


@pytest.mark.parametrize("typed", ["2026/1/1", "2026/01/01", "2026-1-1", "2026.1.1",
                                   "2026年1月1日", "2026/1/1 0:00", "20260101"])
def test_dates_as_excel_writes_them_in_a_chinese_locale(tmp_path, key, typed):
    build_batch(source(tmp_path, [{"valid_from": typed}]), tmp_path / "out", key, "2026-12")
    assert titles(tmp_path / "out")[0]["valid_from"] == "2026-01-01"


def test_an_xlsx_date_cell_and_number_isbn_are_read(tmp_path, key):
    from openpyxl import Workbook
    book = Workbook()
    book.active.append(list(COLUMNS))
    book.active.append(["x1", 9787020002207, "红楼梦", "曹雪芹", "经典名著", "", "a.pdf", "",
                        dt.datetime(2026, 1, 1), dt.datetime(2027, 1, 1, 12, 30), ""])
    src = source(tmp_path, [])
    (src / "metadata.csv").unlink()
    book.save(src / "metadata.xlsx")
    build_batch(src, tmp_path / "out", key, "2026-12")
    title = titles(tmp_path / "out")[0]
    assert (title["isbn"], title["valid_from"], title["valid_until"]) == (
        "9787020002207", "2026-01-01", "2027-01-01")


def test_a_date_that_is_not_a_date_says_the_forms_it_takes(tmp_path, key):
    src = source(tmp_path, [{"valid_from": "someday"}, {"valid_from": "2026/13/1"},
                            {"valid_from": "1/12/2026"}, {"valid_until": "46023"},
                            {"valid_until": ""}])
    message = refusal(src, key, tmp_path)
    for row in (2, 3, 4):
        zh, en = problem(message, row, "valid_from")
        assert "2026-01-01" in zh and "2026/1/1" in zh and "write it as 2026-01-01" in en
    zh, en = problem(message, 5, "valid_until")
    assert "2026-01-01" in zh and "Excel's day number for 2026-01-01" in en
    zh, en = problem(message, 6, "valid_until")
    assert "授权结束日期" in zh and "empty: fill in" in en


def test_the_category_message_lists_the_chinese_names_it_accepts(tmp_path, key):
    src = source(tmp_path, [{"category": "诗歌"}])
    zh, en = problem(refusal(src, key, tmp_path), 2, "category")
    for name, (chinese, _english) in CATEGORIES.items():
        assert chinese in zh and name in en and chinese in en


CHINESE_HEADERS = ("编号", "ISBN", "书名（必填）", " 著者 ", "类别", "内容简介", "电子书文件",
                   "封面", "授权开始日期", "到期日期", "动作")


def test_a_sheet_with_chinese_column_names_is_read(tmp_path, key):
    header = ("书目编号", "isbn", "题名", "作者(必填)", "分类", "简介", "文件", "封面图片",
              "生效日期", "授权截止", "操作")
    src = source(tmp_path, [{"isbn": "9787020002207", "summary": "一本书"},
                            {"id": "old", "action": "下架"}], header=header)
    report = build_batch(src, tmp_path / "out", key, "2026-12")
    assert (report.added, report.withdrawn) == (1, 1)
    first = titles(tmp_path / "out")[0]
    assert (first["title"], first["author"], first["category"], first["valid_until"],
            first["isbn"], first["summary"]) == ("乡村医生手册", "王伟", "health", "2027-12-31",
                                                 "9787020002207", "一本书")
    # Full-width letters and parentheses, spaces and capitals as Excel and IMEs type them.
    src = source(tmp_path / "other", [{}], header=CHINESE_HEADERS[:2] + ("ＴＩＴＬＥ",)
                 + CHINESE_HEADERS[3:])
    assert build_batch(src, tmp_path / "other" / "out", key, "2026-12").added == 1
    src = source(tmp_path / "third", [{}], header=CHINESE_HEADERS)
    assert build_batch(src, tmp_path / "third" / "out", key, "2026-12").added == 1


def test_an_unknown_column_name_is_named_with_the_accepted_ones(tmp_path, key):
    header = CHINESE_HEADERS[:3] + ("作着",) + CHINESE_HEADERS[4:] + ("页数",)
    message = refusal(source(tmp_path, [{}], header=header), key, tmp_path)
    zh, _, en = message.partition("\n")
    assert "“作着”" in zh and "“页数”" in zh and "'作着'" in en and "'页数'" in en
    for chinese, english in (("书名", "title"), ("作者", "author"), ("授权开始日期", "valid_from"),
                             ("到期日期", "valid_until"), ("操作", "action")):
        assert chinese in zh and english in en and zh.index(chinese) < zh.index(english)
    assert "author" in en and "delete" in en  # the fix: rename it, or delete the column


def test_two_columns_with_the_same_meaning_are_refused(tmp_path, key):
    header = COLUMNS[:2] + ("书名",) + COLUMNS[3:] + ("Title",)
    message = refusal(source(tmp_path, [{}], header=header), key, tmp_path)
    assert "“书名”和“Title”" in message and "'书名' and 'Title' both" in message


def test_every_problem_a_librarian_reads_is_chinese_then_english(tmp_path, key):
    src = source(tmp_path, [{"id": "b 1", "author": "", "file": "missing.epub",
                             "valid_until": "2025-01-01"},
                            {"id": "a2", "action": "lend"}, {"id": "a2", "file": "../x.pdf"}],
                 files=("a.pdf", "Books/A.pdf"))
    message = refusal(src, key, tmp_path)
    lines = message.splitlines()
    assert re.match(r"^元数据表 metadata\.csv 有 7 个问题", lines[0])
    assert lines[1].startswith("The metadata sheet metadata.csv has 7 problems")
    pairs = lines[2:]
    assert len(pairs) == 14
    for zh, en in zip(pairs[::2], pairs[1::2]):
        assert re.match(r"^  第 \d 行 \w+ 列：", zh) and re.match(r"^    row \d, \w+: ", en)
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en)
    assert "letters, digits, - and _" in problem(message, 2, "id")[1]
    assert "作者" in problem(message, 2, "author")[0]
    assert "新增" in problem(message, 3, "action")[0]
    assert "already used in row 3" in problem(message, 4, "id")[1]
    assert "outside the batch folder" in problem(message, 4, "file")[1]


def test_a_file_named_in_other_capitals_is_pointed_out(tmp_path, key):
    src = source(tmp_path, [{"file": "books/a.pdf"}], files=("Books/A.pdf",))
    zh, en = problem(refusal(src, key, tmp_path), 2, "file")
    assert "Books/A.pdf" in zh and "the folder has Books/A.pdf" in en


def unicode_text(src):
    """The sheet as Excel's "Unicode text" save writes it: UTF-16 LE, BOM, tabs."""
    text = (src / "metadata.csv").read_text("utf-8-sig").replace(",", "\t")
    (src / "metadata.csv").unlink()
    return b"\xff\xfe" + text.encode("utf-16-le")


@pytest.mark.parametrize("name, make", [
    ("metadata.txt", unicode_text),
    ("metadata.csv", unicode_text),
    ("metadata.csv", lambda src: b"\xff\xfe" + (src / "metadata.csv").read_text(
        "utf-8-sig").encode("utf-16-le")),
    ("Metadata.CSV", lambda src: (src / "metadata.csv").read_text("utf-8-sig").encode(
        "gb18030")),
])
def test_excel_unicode_text_and_utf16_sheets_are_read(tmp_path, key, name, make):
    src = source(tmp_path, [{"title": "红楼梦"}])
    data = make(src)
    (src / "metadata.csv").unlink(missing_ok=True)
    (src / name).write_bytes(data)
    report = build_batch(src, tmp_path / "out", key, "2026-12")
    assert report.sheet.startswith(name) and titles(tmp_path / "out")[0]["title"] == "红楼梦"
    assert report.warnings == ()


def test_a_second_sheet_is_a_warning_naming_the_one_read(tmp_path, key):
    src = source(tmp_path, [{}])
    (src / "metadata.txt").write_bytes(b"\xff\xfeold")
    report = build_batch(src, tmp_path / "out", key, "2026-12")
    assert report.warnings == (
        "读取了 metadata.csv，没有读取 metadata.txt：请删除不用的表，以免改错文件。\n"
        "  Read metadata.csv and not metadata.txt: delete the sheet you do not use, so that "
        "nobody edits the wrong one.",)


SAVE_AS = ("文件 → 另存为", "CSV UTF-8（逗号分隔）", "File > Save As",
           "CSV UTF-8 (Comma delimited)")


@pytest.mark.parametrize("name, data, said", [
    ("metadata.csv", b"PK\x03\x04 an xlsx renamed", "Excel workbook"),
    ("metadata.csv", b"id,title\r\n1,\x00\x01\x02\r\n", "cannot be read as text"),
    ("metadata.txt", b"id\ttitle\r\n1\t\xff\xfe\xff\r\n", "cannot be read as text"),
    ("metadata.xls", b"\xd0\xcf\x11\xe0 old excel", "cannot read .xls"),
    ("metadata.et", b"WPS", "cannot read .et"),
])
def test_a_sheet_we_cannot_read_says_how_to_save_it(tmp_path, key, name, data, said):
    src = source(tmp_path, [{}])
    (src / "metadata.csv").unlink()
    (src / name).write_bytes(data)
    message = refusal(src, key, tmp_path)
    assert name in message and said in message
    assert message.index("另存为") < message.index("Save As")
    for words in SAVE_AS:
        assert words in message


def test_no_sheet_at_all_names_the_files_looked_for(tmp_path, key):
    src = source(tmp_path, [{}])
    (src / "metadata.csv").unlink()
    message = refusal(src, key, tmp_path)
    assert "metadata.xlsx、metadata.csv 或 metadata.txt" in message
    assert "metadata.xlsx, metadata.csv or metadata.txt" in message


def test_the_build_command_prints_warnings_after_the_summary_and_problems_in_both(
        tmp_path, key):
    good = source(tmp_path, [{"isbn": "9787020002207"}, {"isbn": "9787020002207"}],
                  files=("a.pdf", "forgotten.pdf"))
    bad = source(tmp_path / "bad", [{"isbn": "9.78702E+12", "valid_from": "2026/2/30"}])
    run = [sys.executable, "-m", "kiosk", "content", "build"]
    built = subprocess.run([*run, good, tmp_path / "out.tar", "--key", key, "--batch",
                            "2026-12"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    out = built.stdout
    print(out)
    assert out.index("2 added") < out.index("注意") < out.index("第 2、3 行") < out.index(
        "forgotten.pdf")
    refused = subprocess.run([*run, bad, tmp_path / "bad.tar", "--key", key], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    print(refused.stderr)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    problem(refused.stderr, 2, "isbn")
    problem(refused.stderr, 2, "valid_from")


@PARSER_BUDGET
@given(st.one_of(st.text(st.sampled_from("0123456789/-.年月日: ٣"), max_size=20),
                 st.text(max_size=20)))
def test_any_date_cell_gives_a_day_or_the_forms_it_takes(typed):
    try:
        day = sheet_date(typed)
    except SheetDateError as e:
        assert "2026-01-01" in e.zh + e.en or "Excel" in e.en
        return
    assert dt.date.fromisoformat(day).isoformat() == day
