"""The figures staff read: loans and returns per day and hour, e-book use per title and
category, failures by reason, and the service-point table of the half-year report. Read-only
queries over the counts, in one snapshot; runs on the calling thread.

Counts keep the kiosk's local date and hour, so a day here is the day at the kiosk. A loan is a
`checkout` that succeeded, a return a `checkin` that succeeded, a visit any `session`. A failure
is any other outcome than `ok` (or `unknown`, which the kiosk settles later), except for events
whose outcome only says how they ended (a session that timed out, a search left without a
result, a staff action, an intent, the kiosk out of service).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from central.db import Conn
from central.storage import Kiosk, Storage

EBOOK_EVENTS = ("ebook_view", "ebook_qr", "ebook_download")
# Events whose outcome says how something ended or began, never that it failed: an "intent" row
# is written before each ILS transaction, a "service" row when a kiosk stops or resumes taking
# patrons.
NOT_FAILURES = ("session", "search", "admin", "intent", "service")
# Outcomes of a transaction that happened: at once, or found done in the ILS after a crash or
# a lost reply ("reconciled"); "unknown" is no verdict yet (the kiosk reconciles it later).
DONE = ("ok", "reconciled")
NOT_FAILED = (*DONE, "unknown")
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
    library: str
    service_point: str
    visits: int
    loans: int
    returns: int
    ebook_views: int
    downloads: int


@dataclass(frozen=True)
class Figures:
    selection: Selection
    per_day: list[LoansReturns]
    per_hour: list[LoansReturns]
    titles: list[EbookUse]
    categories: list[EbookUse]
    failures: list[Failure]
    points: list[PointRow]

    @property
    def total(self) -> PointRow:
        return PointRow("", "", *(sum(getattr(p, f) for p in self.points) for f in
                                   ("visits", "loans", "returns", "ebook_views", "downloads")))


def gather(storage: Storage, selection: Selection, kiosks: list[Kiosk]) -> Figures:
    """Every figure for the selection; `kiosks` names the service point of each kiosk id."""
    storage.fold()  # every accepted batch in the totals first
    with storage.db.read() as conn:
        where, params = _where(selection)
        per_day = _loans_returns(conn, "day", where, params, selection.days)
        per_hour = _loans_returns(conn, "hour", where, params, list(range(24)))
        titles, categories = _ebooks(conn, _where(selection, "c.")[0], params)
        failures = [Failure(event, outcome, int(n)) for event, outcome, n in conn.all(
            f"SELECT event, outcome, SUM(n) FROM counts WHERE {where} "
            f"AND outcome NOT IN {NOT_FAILED!r} "
            f"AND event NOT IN {NOT_FAILURES!r} "
            "GROUP BY event, outcome ORDER BY SUM(n) DESC, event, outcome", params)]
        points = _points(conn, where, params, selection.kiosk_ids, kiosks)
    return Figures(selection, per_day, per_hour, titles, categories, failures, points)


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
    for label, event, n in conn.all(
            f"SELECT {column}, event, SUM(n) FROM counts WHERE {where} AND outcome IN {DONE!r} "
            f"AND event IN ('checkout', 'checkin') GROUP BY {column}, event", params):
        found[(label, event)] = int(n)
    return [LoansReturns(str(label), found.get((label, "checkout"), 0),
                         found.get((label, "checkin"), 0)) for label in labels]


def _ebooks(conn: Conn, where: str, params: list) -> tuple[list[EbookUse], list[EbookUse]]:
    rows = conn.all(
        "SELECT c.title_key, t.title, t.category, c.event, SUM(c.n) FROM counts c "
        "LEFT JOIN titles t ON t.id = substr(c.title_key, 6) "
        f"WHERE {where} "
        "AND c.outcome = 'ok' AND c.event IN ('ebook_view', 'ebook_qr', 'ebook_download') "
        "AND c.title_key <> '' GROUP BY c.title_key, t.title, t.category, c.event", params)
    per_title: dict[str, dict] = {}
    for key, title, category, event, n in rows:
        entry = per_title.setdefault(key, {"label": title or key.removeprefix("book:"),
                                           "category": category or ""})
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


_POINT_EVENTS = {"session": "visits", "checkout": "loans", "checkin": "returns",
                 "ebook_view": "ebook_views", "ebook_download": "downloads"}


def _points(conn: Conn, where: str, params: list, kiosk_ids: tuple[str, ...],
            kiosks: list[Kiosk]) -> list[PointRow]:
    known = {k.id: (k.library, k.service_point) for k in kiosks}
    place = {kiosk_id: known.get(kiosk_id, ("", kiosk_id)) for kiosk_id in kiosk_ids}
    sums: dict[tuple[str, str], dict[str, int]] = {p: {} for p in place.values()}
    for kiosk_id, event, n in conn.all(
            f"SELECT kiosk_id, event, SUM(n) FROM counts WHERE {where} AND event IN "
            "('session', 'checkout', 'checkin', 'ebook_view', 'ebook_download') "
            f"AND (outcome IN {DONE!r} OR event = 'session') GROUP BY kiosk_id, event", params):
        column = _POINT_EVENTS[event]
        entry = sums[place[kiosk_id]]
        entry[column] = entry.get(column, 0) + int(n)
    return [PointRow(library, point, *(v.get(c, 0) for c in _POINT_EVENTS.values()))
            for (library, point), v in sorted(sums.items())]
