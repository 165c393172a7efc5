"""The staff's folder checked against its metadata sheet before a batch is built from it.

Problems (a bad cell, a missing or unreadable file) stop the build, all named at once; warnings
(two rows sharing an ISBN, files the sheet never names, a second sheet) are kept in the build
report and printed after it. Both are in Chinese, then English, and say what to do.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path, PurePosixPath

from PIL import Image

from content.epub_read import NotAnEpub, epub_cover
from content.errors import BatchError
from content.isbn import same_book
from content.metadata import Problem, Row, Sheet, check_row
from content.staff_text import bilingual
from content.title import FORMATS

MAX_PROBLEMS_SHOWN = 20
MAX_FILES_NAMED = 10
# What Windows, macOS and Office leave in a folder: never a book or a cover.
_LITTER = ("thumbs.db", "desktop.ini")


def check_source(src: Path, sheet: Sheet) -> tuple[str, ...]:
    """The warnings about SRC; a BatchError listing every problem if there is one."""
    files = _folder_files(src)
    problems: list[Problem] = []
    first_row_of: dict[str, int] = {}
    for row in sheet.rows:
        problems += check_row(row)
        v = row.values
        if v["id"] in first_row_of:
            first = first_row_of[v["id"]]
            problems.append(Problem(row.number, "id", f"编号 {v['id']} 已在第 {first} 行用过："
                                    "每本书要有自己的编号。",
                                    f"{v['id']} appears twice: it is already used in row "
                                    f"{first}; give every title its own id."))
        first_row_of.setdefault(v["id"], row.number)
        if v["action"] == "withdraw":
            continue
        for column in ("file", "cover"):
            if v.get(column):
                problems += _check_file(src, v[column], row.number, column, files)
    if problems or not sheet.rows:
        raise BatchError(_problems_text(sheet, problems))
    return (*sheet.warnings, *_shared_isbns(sheet.rows), *_unnamed_files(sheet.rows, files))


def _problems_text(sheet: Sheet, problems: list[Problem]) -> str:
    name = sheet.name
    if not problems:
        return bilingual(f"元数据表 {name} 里没有书目：请在列名下面每本书写一行。",
                         f"the metadata sheet {name} has no titles: write a row for each "
                         "title under the column names.")
    count = len(problems)
    lines = [f"元数据表 {name} 有 {count} 个问题，全部改好后再生成批次（没有写出任何文件）：",
             f"The metadata sheet {name} has {count} problem{'s' if count > 1 else ''}; fix "
             "them all and build again (nothing was written):"]
    lines += [f"  {problem}".replace("\n", "\n  ") for problem in problems[:MAX_PROBLEMS_SHOWN]]
    if count > MAX_PROBLEMS_SHOWN:
        more = count - MAX_PROBLEMS_SHOWN
        lines.append(f"  ……还有 {more} 个问题 / ... and {more} more")
    return "\n".join(lines)


def _check_file(src: Path, relative: str, number: int, column: str,
                files: list[str]) -> list[Problem]:
    path = src / relative

    def bad(zh: str, en: str) -> list[Problem]:
        return [Problem(number, column, zh, en)]

    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        return bad(f"{relative} 在批次文件夹之外：请把文件放进批次文件夹，写它在文件夹里的路径，"
                   "如 books/0001.epub。",
                   f"{relative} is outside the batch folder: put the file in the folder and "
                   "write its path inside it, like books/0001.epub.")
    if not path.is_file():
        near = [name for name in files if name.lower() == _posix(relative).lower()]
        if near:
            return bad(f"找不到 {relative}，但文件夹里有 {near[0]}（大小写不同）："
                       "请照实际的文件名填写。",
                       f"{relative} not found, but the folder has {near[0]} (the capitals "
                       "differ): write the name exactly as it is.")
        return bad(f"找不到 {relative}：请检查文件名和所在的子文件夹（路径从批次文件夹算起）。",
                   f"{relative} not found: check the file's name and its subfolder (paths "
                   "start at the batch folder).")
    if column == "cover":
        try:
            with Image.open(path) as image:
                image.verify()
        except (OSError, SyntaxError, ValueError):  # Pillow's ways to say "not an image"
            return bad(f"{relative} 不是能读取的图片：请换成 JPEG 或 PNG 图片，"
                       "或者留空以使用书里的封面。",
                       f"{relative} is not an image that can be read: use a JPEG or PNG "
                       "file, or leave the cell empty to take the cover from the book.")
        return []
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        return bad(f"{relative} 不是 .epub 或 .pdf 文件：只能收录 EPUB 和 PDF 电子书。",
                   f"{relative} is not an .epub or .pdf file: only EPUB and PDF books can "
                   "be offered.")
    if suffix == "pdf" and not path.read_bytes()[:5] == b"%PDF-":
        return bad(f"{relative} 不是 PDF 文件（开头不是 %PDF-）：请重新导出或下载这本书。",
                   f"{relative} is not a PDF (it does not start with %PDF-): export or "
                   "download the book again.")
    if suffix == "epub":
        try:
            epub_cover(path)
        except NotAnEpub as e:
            return bad(f"{relative} 不是有效的 EPUB（{e}）：请重新导出或下载这本书。",
                       f"{relative} is not a valid EPUB ({e}): export or download the book "
                       "again.")
    return []


def _shared_isbns(rows: list[Row]) -> list[str]:
    rows_of: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        if row.values["action"] != "withdraw" and row.values["isbn"]:
            rows_of[same_book(row.values["isbn"])].append(row.number)
    return [bilingual(f"第 {'、'.join(map(str, numbers))} 行的 ISBN 相同（{isbn}）："
                      "如果不是同一本书的不同文件，请对照版权页改正。",
                      f"rows {_and(numbers)} share the ISBN {isbn}: right for one book in two "
                      "files; otherwise copy each ISBN from the book's copyright page.")
            for isbn, numbers in rows_of.items() if len(numbers) > 1]


def _unnamed_files(rows: list[Row], files: list[str]) -> list[str]:
    named = {_posix(row.values[column]) for row in rows for column in ("file", "cover")
             if row.values.get(column)}
    unnamed = [name for name in files if name not in named
               and not name.lower().startswith("metadata.")]  # the sheet, or an old copy
    if not unnamed:
        return []
    count = len(unnamed)
    shown = ", ".join(unnamed[:MAX_FILES_NAMED])
    if count > MAX_FILES_NAMED:
        shown += f" … (+{count - MAX_FILES_NAMED})"
    return [bilingual(f"文件夹里有 {count} 个文件表里没有用到，不会放进批次：{shown}。"
                      "需要的请在表里加一行，不需要的可以移走。",
                      f"{count} file{'s' if count > 1 else ''} in the folder "
                      f"{'are' if count > 1 else 'is'} not named by the sheet, so left out of "
                      f"the batch: {shown}. Add a row for each one wanted, or move them away.")]


def _folder_files(src: Path) -> list[str]:
    """Every file under SRC as a sheet would name it, without what systems leave behind."""
    found = []
    for folder, subfolders, names in os.walk(src):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        base = Path(folder).relative_to(src)
        found += [(base / name).as_posix() for name in sorted(names)
                  if not name.startswith((".", "~$")) and name.lower() not in _LITTER]
    return found


def _posix(relative: str) -> str:
    return PurePosixPath(os.path.normpath(relative)).as_posix()


def _and(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
