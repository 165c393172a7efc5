"""The statistics table of a half-year report, as CSV (Excel and WPS open it with the Chinese
intact) and as an .xlsx workbook. Rows are service points, columns visits, loans, returns,
e-book views and downloads, with a total row. Pure: figures in, a file out.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from central.figures import Figures, PointRow
from central.i18n import N_, Translator

COLUMNS = (N_("Library"), N_("Service point"), N_("Visits"), N_("Loans"), N_("Returns"),
           N_("E-book views"), N_("Downloads"))
# A cell starting with one of these runs as a formula in a spreadsheet; a service point's
# name typed by staff must never do that.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReportTable:
    title: str
    period: str
    header: tuple[str, ...]
    rows: list[tuple]   # (library, service point, five numbers)
    total: tuple


def table(figures: Figures, tr: Translator, language: str) -> ReportTable:
    sel = figures.selection
    no_point = tr.tr(language, "(no service point)")

    def row(p: PointRow, library: str, point: str) -> tuple:
        return (library, point, p.visits, p.loans, p.returns, p.ebook_views, p.downloads)

    rows = [row(p, p.library, p.service_point or no_point) for p in figures.points]
    return ReportTable(
        title=tr.tr(language, "Self-service kiosk statistics"),
        period=tr.tr(language, "Period: {first} to {last}", first=sel.first_day.isoformat(),
                     last=sel.last_day.isoformat()),
        header=tuple(tr.tr(language, c) for c in COLUMNS),
        rows=rows,
        total=row(figures.total, tr.tr(language, "Total"), ""))


def write_csv(report: ReportTable, out: IO[str]) -> None:
    """UTF-8 with a byte-order mark and CRLF line ends: what Excel needs to read Chinese."""
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_cell(report.title)])
    writer.writerow([_cell(report.period)])
    writer.writerow(report.header)
    for row in [*report.rows, report.total]:
        writer.writerow([_cell(v) for v in row])


def csv_bytes(report: ReportTable) -> bytes:
    buffer = io.StringIO(newline="")
    write_csv(report, buffer)
    return buffer.getvalue().encode("utf-8")


def write_xlsx(report: ReportTable, out: Path | IO[bytes]) -> None:
    """One sheet: the title over the table, bold header and total, thousands separators."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    book = Workbook()
    sheet = book.active
    sheet.title = report.title[:31]
    width = len(report.header)
    sheet.append([report.title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(size=14, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([report.period])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet["A2"].alignment = Alignment(horizontal="center")
    sheet.append(list(report.header))
    thin = Side(style="thin", color="999999")
    border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F3")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for row in report.rows:
        sheet.append([_xlsx_cell(v) for v in row])
    sheet.append([_xlsx_cell(v) for v in report.total])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row):
        for cell in row:
            cell.border = border
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
    for column, w in zip("ABCDEFG", (16, 18, 12, 12, 12, 14, 12)):
        sheet.column_dimensions[column].width = w
    sheet.freeze_panes = "C4"
    book.save(out)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if not isinstance(value, int) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _xlsx_cell(value: object) -> object:
    # openpyxl stores a string starting with "=" as a formula; keep such names as text.
    if isinstance(value, str) and value.startswith("="):
        return "'" + value
    return value
