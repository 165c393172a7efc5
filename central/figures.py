"""The figures staff read: loans and returns per day and hour, e-book use per title and
category, failures by reason, and the service-point table of the half-year report. Read-only
queries over the counts, in one snapshot; runs on the calling thread.

Counts keep the kiosk's local date and hour, so a day here is the day at the kiosk. What each
event and outcome counts as (a loan counted once, online or offline; which outcomes are
failures) is central/tally.py's table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from central import tally
from central.db import Conn
from central.storage import Kiosk, Storage

EBOOK_EVENTS = ("ebook_view", "ebook_qr", "ebook_download")
TOP_TITLES = 20


@dataclass(frozen=True)
class Selection:
    first_day: dt.date
    last_day: dt.date
    kiosk_ids: tuple[str, ...]

    @property
    def days(self) -> list[str]:
        span = (self.last_day - self.first_day).days
        return [(self.first_day + dt.timedelta(days=i)).isoformat() for i in range(span + 1)]


@dataclass(frozen=True)
class LoansReturns:
    label: str  # a day (YYYY-MM-DD) or an hour (0..23)
    loans: int
    returns: int


@dataclass(frozen=True)
class EbookUse:
    label: str      # a title (its name, or its id when the catalogue never came) or a category
    category: str
    views: int
    qr_scans: int
    downloads: int


@dataclass(frozen=True)
class Failure:
    event: str
    outcome: str
    n: int


@dataclass(frozen=True)
class PointRow:
    """One service point's counts (tally.COUNTED's columns, in its order)."""
    library: str
    service_point: str
    sessions: int  # kiosk sessions: a patron at the screen, not a visit to the library
    loans: int
    returns: int
    renewals: int
    ebook_views: int
    qr_scans: int
    downloads: int

    @property
    def loans_returns(self) -> int:
        """借还: loans and returns together, as the half-year report counts circulation."""
        return self.loans + self.returns


def add_up(library: str, service_point: str, rows: list[PointRow]) -> PointRow:
    return PointRow(library, service_point,
                    *(sum(getattr(p, c) for p in rows) for c in tally.COUNTED))


@dataclass(frozen=True)
class Figures:
    selection: Selection
    per_day: list[LoansReturns]
    per_hour: list[LoansReturns]
    titles: list[EbookUse]
    categories: list[EbookUse]
    failures: list[Failure]
    points: list[PointRow]
    old_replays: list[Failure]  # older kiosks' `offline_replay` rows: loan or return unknown

    @property
    def total(self) -> PointRow:
        return add_up("", "", self.points)

    @property
    def libraries(self) -> list[str]:
        return sorted({p.library for p in self.points})


def gather(storage: Storage, selection: Selection, kiosks: list[Kiosk]) -> Figures:
    """Every figure for the selection; `kiosks` names the service point of each kiosk id."""
    storage.fold()  # every accepted batch in the totals first
    with storage.db.read() as conn:
        where, params = _where(selection)
        per_day = _loans_returns(conn, "day", where, params, selection.days)
        per_hour = _loans_returns(conn, "hour", where, params, list(range(24)))
        titles, categories = _ebooks(conn, _where(selection, "c.")[0], params)
        failing, failing_params = tally.matching(tally.FAILURES)
        failures = _by_outcome(conn, f"{where} AND {failing}", [*params, *failing_params])
        old_replays = _by_outcome(conn, f"{where} AND event = ?", [*params, tally.OLD_REPLAY])
        points = _points(conn, where, params, selection.kiosk_ids, kiosks)
    return Figures(selection, per_day, per_hour, titles, categories, failures, points,
                   old_replays)


def _by_outcome(conn: Conn, where: str, params: list) -> list[Failure]:
    return [Failure(event, outcome, int(n)) for event, outcome, n in conn.all(
        f"SELECT event, outcome, SUM(n) FROM counts WHERE {where} "
        "GROUP BY event, outcome ORDER BY SUM(n) DESC, event, outcome", params)]


def _where(selection: Selection, table: str = "") -> tuple[str, list]:
    """The selection as SQL over counts; `table` prefixes the columns ("c." in a join)."""
    if not selection.kiosk_ids:
        return "1 = 0", []
    marks = ", ".join("?" * len(selection.kiosk_ids))
    return (f"{table}day >= ? AND {table}day <= ? AND {table}kiosk_id IN ({marks})",
            [selection.first_day.isoformat(), selection.last_day.isoformat(),
             *selection.kiosk_ids])


def _loans_returns(conn: Conn, column: str, where: str, params: list,
                   labels: list) -> list[LoansReturns]:
    found: dict = {}
    done, done_params = tally.matching({e: o for e, o in tally.COUNTED.values()
                                        if e in ("checkout", "checkin")})
    for label, event, n in conn.all(
            f"SELECT {column}, event, SUM(n) FROM counts WHERE {where} AND {done} "
            f"GROUP BY {column}, event", [*params, *done_params]):
        found[(label, event)] = int(n)
    return [LoansReturns(str(label), found.get((label, "checkout"), 0),
                         found.get((label, "checkin"), 0)) for label in labels]


def _ebooks(conn: Conn, where: str, params: list) -> tuple[list[EbookUse], list[EbookUse]]:
    rows = conn.all(
        "SELECT c.title_key, t.title, t.category, c.event, SUM(c.n) FROM counts c "
        "JOIN kiosks k ON k.id = c.kiosk_id LEFT JOIN library_titles t "
        "ON t.library = k.library AND t.id = substr(c.title_key, 6) "
        f"WHERE {where} "
        "AND c.outcome = 'ok' AND c.event IN ('ebook_view', 'ebook_qr', 'ebook_download') "
        "AND c.title_key <> '' GROUP BY c.title_key, t.title, t.category, c.event", params)
    # Each kiosk's library names its titles; libraries may give one id to different books.
    per_title: dict[tuple, dict] = {}
    for key, title, category, event, n in rows:
        entry = per_title.setdefault((key, title, category), {
            "label": title or key.removeprefix("book:"), "category": category or ""})
        entry[event] = entry.get(event, 0) + int(n)
    titles = [_use(e["label"], e["category"], e) for e in per_title.values()]
    by_category: dict[str, dict] = {}
    for use in titles:
        entry = by_category.setdefault(use.category, {})
        for event, value in zip(EBOOK_EVENTS, (use.views, use.qr_scans, use.downloads)):
            entry[event] = entry.get(event, 0) + value
    categories = [_use(name, name, e) for name, e in by_category.items()]
    return sorted(titles, key=_by_use)[:TOP_TITLES], sorted(categories, key=_by_use)


def _by_use(use) -> tuple[int, str]:
    """Most used first, then by name."""
    return -(use.views + use.qr_scans + use.downloads), use.label


def _use(label: str, category: str, events: dict) -> EbookUse:
    return EbookUse(label, category, *(events.get(e, 0) for e in EBOOK_EVENTS))


def _points(conn: Conn, where: str, params: list, kiosk_ids: tuple[str, ...],
            kiosks: list[Kiosk]) -> list[PointRow]:
    known = {k.id: (k.library, k.service_point) for k in kiosks}
    place = {kiosk_id: known.get(kiosk_id, ("", kiosk_id)) for kiosk_id in kiosk_ids}
    sums: dict[tuple[str, str], dict[str, int]] = {p: {} for p in place.values()}
    column = {event: name for name, (event, _outcomes) in tally.COUNTED.items()}
    counted, counted_params = tally.matching(dict(tally.COUNTED.values()))
    for kiosk_id, event, n in conn.all(
            f"SELECT kiosk_id, event, SUM(n) FROM counts WHERE {where} AND {counted} "
            "GROUP BY kiosk_id, event", [*params, *counted_params]):
        entry = sums[place[kiosk_id]]
        entry[column[event]] = entry.get(column[event], 0) + int(n)
    return [PointRow(library, point, *(v.get(c, 0) for c in tally.COUNTED))
            for (library, point), v in sorted(sums.items())]
