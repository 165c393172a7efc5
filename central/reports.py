"""Staff reports as CSV (Excel and WPS open it with the Chinese intact) and as .xlsx
workbooks: the statistics table of a half-year report here (rows are service points, with a
subtotal per library when there are several and a total; columns as the library's report
counts: kiosk sessions, loans, returns, loans and returns together (借还), renewals, e-book
views, QR scans, e-book downloads), and the writers every report shares
(central/title_report.py has the titles report). Pure: tables in, a file out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from central.figures import Figures, PointRow, add_up
from central.i18n import N_, Translator

COLUMNS = (N_("Library"), N_("Service point"), N_("Kiosk sessions"), N_("Loans"), N_("Returns"),
           N_("Loans and returns"), N_("Renewals"), N_("E-book views"), N_("QR scans"),
           N_("E-book downloads"))
# A cell starting with one of these runs as a formula in a spreadsheet; a service point's
# name typed by staff must never do that.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReportTable:
    title: str
    period: str
    header: tuple[str, ...]
    rows: list[tuple]           # cells: text or whole numbers
    total: tuple | None = None  # a bold last row
    sheet: str = ""             # the workbook sheet's name; "" for the title's start
    widths: tuple[int, ...] = ()  # of the columns in the workbook, in characters
    frozen: str = "A4"          # the first cell that scrolls: the header always shows
    subtotals: tuple[int, ...] = ()  # indexes in `rows` of subtotal rows, bold like the total


def table(figures: Figures, tr: Translator, language: str) -> ReportTable:
    sel = figures.selection
    no_point = tr.tr(language, "(no service point)")
    several = len(figures.libraries) > 1
    rows: list[tuple] = []
    subtotals: list[int] = []
    for library in figures.libraries:
        points = [p for p in figures.points if p.library == library]
        rows += [point_row(p, p.library, p.service_point or no_point) for p in points]
        if several:
            subtotals.append(len(rows))
            rows.append(point_row(add_up(library, "", points), library,
                                  tr.tr(language, "Subtotal")))
    return ReportTable(
        title=tr.tr(language, "Self-service kiosk statistics"),
        period=tr.tr(language, "Period: {first} to {last}", first=sel.first_day.isoformat(),
                     last=sel.last_day.isoformat()),
        header=tuple(tr.tr(language, c) for c in COLUMNS),
        rows=rows,
        total=point_row(figures.total, tr.tr(language, "Total"), ""),
        widths=(16, 18, 12, 10, 10, 12, 10, 12, 10, 12), frozen="C4",
        subtotals=tuple(subtotals))


def point_row(p: PointRow, library: str, point: str) -> tuple:
    return (library, point, p.sessions, p.loans, p.returns, p.loans_returns, p.renewals,
            p.ebook_views, p.qr_scans, p.downloads)


def write_csv(reports: ReportTable | Sequence[ReportTable], out: IO[str]) -> None:
    """UTF-8 with a byte-order mark and CRLF line ends: what Excel needs to read Chinese.
    Several tables follow one another, an empty row between them."""
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    for number, report in enumerate(_tables(reports)):
        if number:
            writer.writerow([])
        writer.writerow([csv_cell(report.title)])
        writer.writerow([csv_cell(report.period)])
        writer.writerow([csv_cell(v) for v in report.header])
        for row in _body(report):
            writer.writerow([csv_cell(v) for v in row])


def csv_bytes(reports: ReportTable | Sequence[ReportTable]) -> bytes:
    buffer = io.StringIO(newline="")
    write_csv(reports, buffer)
    return buffer.getvalue().encode("utf-8")


def write_xlsx(reports: ReportTable | Sequence[ReportTable], out: Path | IO[bytes]) -> None:
    """One sheet per table: the title over the table, bold header and total, thousands
    separators."""
    from openpyxl import Workbook

    book = Workbook()
    for number, report in enumerate(_tables(reports)):
        sheet = book.active if number == 0 else book.create_sheet()
        _fill_sheet(sheet, report)
    book.save(out)


def xlsx_bytes(reports: ReportTable | Sequence[ReportTable]) -> bytes:
    out = io.BytesIO()
    write_xlsx(reports, out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fill_sheet(sheet, report: ReportTable) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    sheet.title = _sheet_name(report.sheet or report.title)
    width = len(report.header)
    for row_number, text in ((1, report.title), (2, report.period)):
        sheet.append([text])
        sheet.merge_cells(start_row=row_number, start_column=1, end_row=row_number,
                          end_column=width)
        sheet.cell(row_number, 1).alignment = Alignment(horizontal="center")
    sheet["A1"].font = Font(size=14, bold=True)
    sheet.append([xlsx_cell(v) for v in report.header])
    thin = Side(style="thin", color="999999")
    border = Border(top=thin, bottom=thin, left=thin, right=thin)
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F3")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for row in _body(report):
        sheet.append([xlsx_cell(v) for v in row])
    bold = [4 + i for i in report.subtotals]
    if report.total is not None:
        bold.append(sheet.max_row)
    for row_number in bold:
        for cell in sheet[row_number]:
            cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row):
        for cell in row:
            cell.border = border
            if isinstance(cell.value, int):
                cell.number_format = "#,##0"
    for column, w in enumerate(report.widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = w
    sheet.freeze_panes = report.frozen


def _tables(reports: ReportTable | Sequence[ReportTable]) -> Sequence[ReportTable]:
    return (reports,) if isinstance(reports, ReportTable) else reports


def _body(report: ReportTable) -> list[tuple]:
    return [*report.rows, *(() if report.total is None else (report.total,))]


def _sheet_name(text: str) -> str:
    """Excel refuses a sheet name over 31 characters or with any of []:*?/\\ in it."""
    return "".join("_" if c in "[]:*?/\\" else c for c in text)[:31] or "Sheet"


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if not isinstance(value, int) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def xlsx_cell(value: object) -> object:
    # openpyxl stores a string starting with "=" as a formula; keep such names as text.
    if isinstance(value, str) and value.startswith("="):
        return "'" + value
    return value
