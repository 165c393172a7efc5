"""The staff's titles report: the e-books whose licence ends within the next 30 days (they
vanish from the kiosks by themselves then: renew them or plan the next batch), and a month's
most viewed and most downloaded e-books. Read-only queries in one snapshot; runs on the calling
thread (a page's worker thread, the command line).

Licence windows come with each kiosk's catalogue (`kiosk_titles`), so a library's report
lists what its own kiosks hold, by its own names (`library_titles`); kiosks older than issue
17 send no windows and are named instead. Views and downloads are the `ebook_view` and
`ebook_download` counts that succeeded, on the kiosks' local days, as on the figures page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from central.figures import TOP_TITLES
from central.i18n import N_, Translator
from central.reports import ReportTable
from central.storage import Kiosk, Storage
from common.categories import category_name

ENDING_DAYS = 30


@dataclass(frozen=True)
class Month:
    first_day: dt.date
    last_day: dt.date

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2026-11`; ValueError for anything else."""
        year, _, month = text.strip().partition("-")
        if (len(year) == 4 and year.isdigit() and 1 <= len(month) <= 2 and month.isdigit()
                and 1 <= int(month) <= 12):
            return cls.of(dt.date(int(year), int(month), 1))
        raise ValueError(f"{text!r} is not a month like 2026-11")

    @classmethod
    def of(cls, day: dt.date) -> Month:
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
        return cls(first, following - dt.timedelta(days=1))

    @classmethod
    def last_whole(cls, today: dt.date) -> Month:
        """The month before today's: the default, since this month is not over yet."""
        return cls.of(today.replace(day=1) - dt.timedelta(days=1))

    @property
    def name(self) -> str:
        return self.first_day.strftime("%Y-%m")


@dataclass(frozen=True)
class EndingTitle:
    library: str
    title_id: str
    title: str       # its name, or its id when no catalogue named it
    author: str
    category: str
    valid_until: dt.date
    kiosks: int      # how many of the library's kiosks hold it


@dataclass(frozen=True)
class TitleUse:
    title_id: str
    title: str
    author: str
    category: str
    views: int
    downloads: int


@dataclass(frozen=True)
class TitleReport:
    today: dt.date
    month: Month
    ending: list[EndingTitle]
    most_viewed: list[TitleUse]
    most_downloaded: list[TitleUse]
    undated_kiosks: list[str]  # kiosks whose catalogue came without licence windows

    @property
    def ending_by(self) -> dt.date:
        return self.today + dt.timedelta(days=ENDING_DAYS)


def gather(storage: Storage, kiosks: list[Kiosk], today: dt.date, month: Month,
           top: int = TOP_TITLES) -> TitleReport:
    """The report over `kiosks` (those the reader may see); revoked kiosks count for the
    month's use but hold no titles any more."""
    ids = [k.id for k in kiosks]
    held = [k.id for k in kiosks if k.revoked_utc is None]
    storage.fold()  # every accepted batch in the totals first
    with storage.db.read() as conn:
        ending = [EndingTitle(library, title_id, title or title_id, author or "",
                              category or "", dt.date.fromisoformat(until), int(n))
                  for library, title_id, title, author, category, until, n in conn.all(
            "SELECT k.library, kt.title_id, t.title, t.author, t.category, "
            "MIN(kt.valid_until), COUNT(*) FROM kiosk_titles kt "
            "JOIN kiosks k ON k.id = kt.kiosk_id "
            "LEFT JOIN library_titles t ON t.library = k.library AND t.id = kt.title_id "
            f"WHERE kt.kiosk_id IN ({_marks(held)}) "
            "AND kt.valid_until >= ? AND kt.valid_until <= ? "
            "GROUP BY k.library, kt.title_id, t.title, t.author, t.category "
            "ORDER BY MIN(kt.valid_until), k.library, kt.title_id",
            (*held, today.isoformat(), (today + dt.timedelta(days=ENDING_DAYS)).isoformat()))]
        undated = [row[0] for row in conn.all(
            "SELECT DISTINCT kiosk_id FROM kiosk_titles "
            f"WHERE kiosk_id IN ({_marks(held)}) AND valid_until IS NULL ORDER BY kiosk_id",
            held)]
        # Keyed by the name too: libraries may give one id to different books.
        use: dict[tuple[str, str, str, str], dict] = {}
        for key, title, author, category, event, n in conn.all(
                "SELECT c.title_key, t.title, t.author, t.category, c.event, SUM(c.n) "
                "FROM counts c JOIN kiosks k ON k.id = c.kiosk_id LEFT JOIN library_titles t "
                "ON t.library = k.library AND t.id = substr(c.title_key, 6) "
                f"WHERE c.kiosk_id IN ({_marks(ids)}) AND c.day >= ? AND c.day <= ? "
                "AND c.outcome = 'ok' AND c.event IN ('ebook_view', 'ebook_download') "
                "AND c.title_key <> '' "
                "GROUP BY c.title_key, t.title, t.author, t.category, c.event",
                (*ids, month.first_day.isoformat(), month.last_day.isoformat())):
            title_id = key.removeprefix("book:")
            entry = use.setdefault((title_id, title or title_id, author or "", category or ""),
                                   {})
            entry[event] = entry.get(event, 0) + int(n)
    uses = [TitleUse(*named, e.get("ebook_view", 0), e.get("ebook_download", 0))
            for named, e in use.items()]
    viewed = sorted((u for u in uses if u.views),
                    key=lambda u: (-u.views, -u.downloads, u.title, u.title_id))
    downloaded = sorted((u for u in uses if u.downloads),
                        key=lambda u: (-u.downloads, -u.views, u.title, u.title_id))
    return TitleReport(today, month, ending, viewed[:top], downloaded[:top], undated)


def _marks(values: list[str]) -> str:
    """The placeholders of an IN list; an empty list matches nothing."""
    return ", ".join("?" * len(values)) if values else "NULL"


ENDING_COLUMNS = (N_("Library"), N_("Title ID"), N_("Title"), N_("Author"), N_("Category"),
                  N_("Licence ends"), N_("Days left"), N_("Kiosks"))
VIEWED_COLUMNS = (N_("Rank"), N_("Title ID"), N_("Title"), N_("Author"), N_("Category"),
                  N_("Views"), N_("Downloads"))
DOWNLOADED_COLUMNS = (N_("Rank"), N_("Title ID"), N_("Title"), N_("Author"), N_("Category"),
                      N_("Downloads"), N_("Views"))


def tables(report: TitleReport, tr: Translator, language: str) -> list[ReportTable]:
    """The three tables, for the page, the CSV file and the workbook's three sheets, with
    each category by its name in `language`."""
    def t(msgid: str, **args: str) -> str:
        return tr.tr(language, msgid, **args)

    def category(key: str) -> str:
        return category_name(key, language)

    month = t("Period: {first} to {last}", first=report.month.first_day.isoformat(),
              last=report.month.last_day.isoformat())
    ending = ReportTable(
        title=t("E-books whose licence ends within {days} days", days=str(ENDING_DAYS)),
        period=t("Licence ends from {first} to {last}", first=report.today.isoformat(),
                 last=report.ending_by.isoformat()),
        header=tuple(t(c) for c in ENDING_COLUMNS),
        rows=[(e.library, e.title_id, e.title, e.author, category(e.category),
               e.valid_until.isoformat(),
               (e.valid_until - report.today).days, e.kiosks) for e in report.ending],
        sheet=t("Licences ending"), widths=(16, 10, 32, 16, 20, 12, 10, 8), frozen="D4")
    viewed = ReportTable(
        title=t("Most viewed e-books"), period=month,
        header=tuple(t(c) for c in VIEWED_COLUMNS),
        rows=[(rank, u.title_id, u.title, u.author, category(u.category), u.views,
               u.downloads)
              for rank, u in enumerate(report.most_viewed, start=1)],
        sheet=t("Most viewed"), widths=(6, 10, 32, 16, 20, 10, 10), frozen="D4")
    downloaded = ReportTable(
        title=t("Most downloaded e-books"), period=month,
        header=tuple(t(c) for c in DOWNLOADED_COLUMNS),
        rows=[(rank, u.title_id, u.title, u.author, category(u.category), u.downloads,
               u.views)
              for rank, u in enumerate(report.most_downloaded, start=1)],
        sheet=t("Most downloaded"), widths=(6, 10, 32, 16, 20, 10, 10), frozen="D4")
    return [ending, viewed, downloaded]
