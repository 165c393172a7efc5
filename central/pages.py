"""The staff's web pages: sign in, the fleet, the figures with their charts, report downloads.
Server-rendered HTML (Jinja2, autoescaped) with inline SVG charts; scripts (static/*.js, never
inline) only add to pages that work without them.

Sessions are kept by the server (central/sessions.py; the cookie holds only their token) with
the user name, the language and a CSRF token; every form that changes something posts that
token back. Sign-ins are throttled per name and per address (central/signin_throttle.py) and
audited. A staff
account sees its own library's kiosks, an administrator sees every kiosk.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from central import audit, charts, fleet, picker, reports, sessions, signin_throttle, title_report
from central.audit import AuditAction
from central.auth import check_password, dummy_password_check, new_csrf_token, same_secret
from central.figures import Figures, Selection, gather
from central.i18n import HTML_LANG, LANGUAGE_NAMES, LANGUAGES, N_
from central.labels import category_label, event_label, outcome_label
from central.releases import Release, ReleaseKind
from central.storage import Kiosk, Storage, User
from central.title_report import TitleReport

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
DEFAULT_DAYS = 30
MAX_DAYS = 3660


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


async def to_sign_in(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, SignInRequired)  # registered for this one alone
    return RedirectResponse("/login?" + urlencode({"next": exc.next_path}), status_code=303)


def _storage(request: Request) -> Storage:
    return request.app.state.storage


def _language(request: Request) -> str:
    language = request.session.get("lang")
    return language if language in LANGUAGES else LANGUAGES[0]


def _csrf(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = new_csrf_token()
    return request.session["csrf"]


def _user(request: Request) -> User:
    name = request.session.get("user")
    user = _storage(request).user(name) if isinstance(name, str) else None
    if user is None or user.disabled_utc:
        raise SignInRequired(request.url.path
                             + (f"?{request.url.query}" if request.url.query else ""))
    return user


def visible_kiosks(storage: Storage, user: User) -> list[Kiosk]:
    """Revoked kiosks too: their counts from before still belong to the figures."""
    return [k for k in storage.kiosks() if user.role == "admin" or k.library == user.library]


def _local_path(path: str | None) -> str:
    """Only a path on this server; anything else (//evil.example) goes to the fleet page."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/fleet"


def _render(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    language = _language(request)
    t = request.app.state.translator.bound(language)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return templates.TemplateResponse(request, name, {
        "t": t, "lang": language, "html_lang": HTML_LANG[language], "csrf": _csrf(request),
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "here": here, **context}, status_code=status)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/fleet", status_code=303)


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/fleet") -> RedirectResponse:
    if code in LANGUAGES:
        request.session["lang"] = code
    return RedirectResponse(_local_path(next), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/fleet") -> HTMLResponse:
    return _render(request, "login.html", {"next": _local_path(next), "error": None,
                                           "user": None, "name": ""})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, name: str = Form(""), password: str = Form(""),
          csrf: str = Form(""), next: str = Form("/fleet")) -> Response:
    if not same_secret(csrf, request.session.get("csrf")):
        return _render(request, "login.html", {
            "next": _local_path(next), "user": None, "name": name,
            "error": N_("The form had expired. Please sign in again.")}, status=400)
    db = _storage(request).db
    address = request.client.host if request.client else ""
    now = sessions.utc_now()
    with db.read() as conn:
        block = signin_throttle.blocked(conn, name, address, now)
    if block is not None:  # refused untried, a known name or not; logged, not audited
        log.warning("sign-in for %r from %s refused untried: too many failures (%s)",
                    name[:64], address, block.rule.scope)
        return _too_many(request, name, next, block, now)
    user = _storage(request).user(name)
    reason = _refusal(user, password)
    if user is None or reason is not None:
        return _refused(request, name, next, address, reason or "", now)
    language = _language(request)
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    request.session.update({"lang": language, "csrf": new_csrf_token()})
    with db.write() as conn:
        signin_throttle.succeeded(conn, name)
        sessions.of(request).sign_in(conn, user.name, now)
        audit.record(conn, user.name, AuditAction.SIGN_IN, user.name, address=address)
    log.info("%s signed in", user.name)
    return RedirectResponse(_local_path(next), status_code=303)


def _refusal(user: User | None, password: str) -> str | None:
    """Why a sign-in is refused (for the audit log alone), or None; as slow either way."""
    if user is None:
        dummy_password_check(password)
        return "unknown name"
    if not check_password(password, user.password_hash):
        return "wrong password"
    return "disabled" if user.disabled_utc else None


def _refused(request: Request, name: str, next_path: str, address: str, reason: str,
             now: dt.datetime) -> Response:
    """Counts and audits a refused sign-in; the page says only "wrong name or password",
    or "too many attempts" when this one tripped a limit."""
    with _storage(request).db.write() as conn:
        tripped = signin_throttle.failed(conn, name, address, now)
        audit.record(conn, name, AuditAction.SIGN_IN_REFUSED, name, address=address,
                     detail={"reason": reason})
        for rule in tripped:
            locked = rule is signin_throttle.ACCOUNT
            audit.record(conn, audit.SERVER, AuditAction.ACCOUNT_LOCKED if locked
                         else AuditAction.ADDRESS_BLOCKED, name if locked else address,
                         address=address, detail={
                             "failures": rule.failures,
                             "minutes": int(rule.refuse_for.total_seconds()) // 60})
    log.warning("sign-in refused for %r from %s", name[:64], address)
    if tripped:
        return _too_many(request, name, next_path, signin_throttle.Blocked(
            tripped[0], now + tripped[0].refuse_for), now)
    return _render(request, "login.html", {
        "next": _local_path(next_path), "user": None, "name": name,
        "error": N_("Wrong name or password.")}, status=401)


def _too_many(request: Request, name: str, next_path: str, block: signin_throttle.Blocked,
              now: dt.datetime) -> Response:
    answer = _render(request, "login.html", {
        "next": _local_path(next_path), "user": None, "name": name,
        "error": N_("Too many attempts. Try again in {minutes} minutes."),
        "error_args": {"minutes": block.minutes_left(now)}}, status=429)
    answer.headers["Retry-After"] = str(block.seconds_left(now))
    return answer


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> RedirectResponse:
    if same_secret(csrf, request.session.get("csrf")):
        language = _language(request)
        name = request.session.get(sessions.USER)
        with _storage(request).db.write() as conn:
            sessions.of(request).sign_out(conn)
            if isinstance(name, str):
                audit.record(conn, name, AuditAction.SIGN_OUT, name,
                             address=request.client.host if request.client else "")
        request.session["lang"] = language
    return RedirectResponse("/login", status_code=303)


@router.get("/fleet", response_class=HTMLResponse)
def fleet_page(request: Request) -> HTMLResponse:
    user = _user(request)
    storage = _storage(request)
    config = request.app.state.config
    kiosks = [k.id for k in visible_kiosks(storage, user) if k.revoked_utc is None]
    now = request.app.state.clock()
    entries = storage.fleet(kiosks)
    newest = {library: request.app.state.releases.current(ReleaseKind.CATALOGUE, library)
              for library in {e.kiosk.library for e in entries}}
    rows = fleet.order([fleet.assess(e, now, config.silent_after_min,
                                     _version(newest[e.kiosk.library]), config.zone)
                        for e in entries])
    summary = {h: sum(1 for r in rows if r.health == h) for h in (fleet.OK, fleet.WARNING,
                                                                  fleet.FAULT, fleet.SILENT)}
    summary["behind"] = sum(1 for r in rows if r.behind)
    return _render(request, "fleet.html", {"user": user, "rows": rows, "summary": summary,
                                           "zone": fleet.zone_label(config.zone, now),
                                           "silent_after": fleet.span(60 * config.silent_after_min),
                                           "health_names": fleet.HEALTH_NAMES,
                                           "page": "fleet"})


def _version(release: Release | None) -> str | None:
    return release.version if release is not None else None


class UnknownLibrary(LookupError):
    """A `library=` that none of the kiosks the user may see belongs to."""


def _selection(request: Request, user: User) -> tuple[Selection, list[Kiosk], list[str],
                                                     picker.Picked]:
    """The period and kiosks asked for in the query (`kiosk=`, and `library=` as the report
    command takes it), within what the user may see; UnknownLibrary for a `library=` none of
    them belongs to."""
    query = request.query_params
    today = request.app.state.clock().date()
    errors: list[str] = []
    last = _day(query.get("to"), today, errors)
    first = _day(query.get("from"), last - dt.timedelta(days=DEFAULT_DAYS - 1), errors)
    if first > last:
        errors.append(N_("The first day is after the last; they were swapped."))
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        errors.append(N_("At most ten years at once; the period was shortened."))
        first = last - dt.timedelta(days=MAX_DAYS - 1)
    kiosks = visible_kiosks(_storage(request), user)
    library = query.get("library", "")
    if library and library not in {k.library for k in kiosks}:
        raise UnknownLibrary(library)
    picked = picker.pick(kiosks, query.getlist("kiosk"), library)
    if picked.unknown:
        errors.append(N_("A kiosk or library asked for is not one you may see; it was left out."))
    return Selection(first, last, tuple(k.id for k in picked.kiosks)), kiosks, errors, picked


def _day(text: str | None, default: dt.date, errors: list[str]) -> dt.date:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.append(N_("A date was not understood; use YYYY-MM-DD."))
        return default


@router.get("/figures", response_class=HTMLResponse)
def figures_page(request: Request) -> HTMLResponse:
    user = _user(request)
    context = {"event_label": event_label, "outcome_label": outcome_label,
               "category_label": category_label, "user": user, "page": "figures"}
    try:
        selection, kiosks, errors, picked = _selection(request, user)
    except UnknownLibrary as unknown:
        # No figures at all rather than an empty table that reads as "nothing happened".
        kiosks = visible_kiosks(_storage(request), user)
        today = request.app.state.clock().date()
        return _render(request, "figures.html", {
            **context, "unknown_library": str(unknown), "errors": [], "figures": None,
            "groups": picker.groups(kiosks), "picked": picker.pick(kiosks, []),
            "selection": Selection(today - dt.timedelta(days=DEFAULT_DAYS - 1), today, ())},
            status=404)
    figures = gather(_storage(request), selection, kiosks)
    language = _language(request)
    t = request.app.state.translator.bound(language)
    query = urlencode([("from", selection.first_day.isoformat()),
                       ("to", selection.last_day.isoformat()),
                       *(("kiosk", v) for v in picked.values)])
    return _render(request, "figures.html", {
        **context, "selection": selection, "groups": picker.groups(kiosks),
        "picked": picked, "errors": errors,
        "figures": figures, "charts": _charts(figures, t, language),
        "query": query, "report": reports.table(figures, request.app.state.translator, language)})


def _charts(figures: Figures, t, language: str) -> dict:
    loans_returns = [charts.Series(t("Loans"), "s-loans"), charts.Series(t("Returns"), "s-returns")]
    ebook = [charts.Series(t("Views"), "s-views"), charts.Series(t("QR scans"), "s-qr"),
             charts.Series(t("Downloads"), "s-downloads")]
    empty = t("No figures for this period")
    days = figures.per_day
    periods = charts.by_period(figures.selection.first_day,
                               [[d.loans for d in days], [d.returns for d in days]])
    return {
        "periods": periods,  # by day, week or month, for the heading and the table
        "per_day": charts.grouped_bars(
            periods.labels(t), loans_returns, periods.values, title=t(periods.title),
            empty_text=empty, label_px=periods.label_px),
        "per_hour": charts.grouped_bars(
            [d.label for d in figures.per_hour], loans_returns,
            [[d.loans for d in figures.per_hour], [d.returns for d in figures.per_hour]],
            title=t("Loans and returns per hour of the day"), empty_text=empty, label_px=22),
        "titles": charts.horizontal_bars(
            [u.label for u in figures.titles], ebook,
            [[u.views for u in figures.titles], [u.qr_scans for u in figures.titles],
             [u.downloads for u in figures.titles]],
            title=t("E-books by title"), empty_text=empty),
        "categories": charts.horizontal_bars(
            [category_label(t, language, u.label) for u in figures.categories], ebook,
            [[u.views for u in figures.categories], [u.qr_scans for u in figures.categories],
             [u.downloads for u in figures.categories]],
            title=t("E-books by category"), empty_text=empty),
        "failures": charts.horizontal_bars(
            [f"{event_label(t, f.event)} · {outcome_label(t, f.outcome)}"
             for f in figures.failures],
            [charts.Series(t("Failures"), "s-failures")], [[f.n for f in figures.failures]],
            title=t("Failures by reason"), empty_text=t("No failures in this period")),
    }


@router.get("/figures/report.{fmt}")
def report_download(request: Request, fmt: str) -> Response:
    user = _user(request)
    if fmt not in ("csv", "xlsx"):
        return Response("csv or xlsx", status_code=404)
    try:
        selection, kiosks, _errors, _picked = _selection(request, user)
    except UnknownLibrary as e:
        return Response(f"no library named {e}", status_code=404)
    table = reports.table(gather(_storage(request), selection, kiosks),
                          request.app.state.translator, _language(request))
    return _report_file(table, f"kiosk-figures-{selection.first_day}-{selection.last_day}",
                        fmt)


def _report_file(tables: reports.ReportTable | list[reports.ReportTable], name: str,
                 fmt: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    if fmt == "csv":
        return Response(reports.csv_bytes(tables), media_type="text/csv; charset=utf-8",
                        headers=headers)
    return Response(reports.xlsx_bytes(tables), headers=headers,
                    media_type=reports.XLSX_TYPE)


def _title_report(request: Request, user: User) -> tuple[TitleReport, list[str],
                                                         list[Kiosk], picker.Picked]:
    """The titles report asked for (`month=2026-11`, the picker's `kiosk=`), within what the
    user may see; with the messages about what was not understood, the kiosks the user may
    see and those chosen."""
    query = request.query_params
    today = request.app.state.clock().date()
    errors: list[str] = []
    month = title_report.Month.last_whole(today)
    if query.get("month"):
        try:
            month = title_report.Month.parse(query["month"])
        except ValueError:
            errors.append(N_("A month was not understood; use YYYY-MM."))
    kiosks = visible_kiosks(_storage(request), user)
    picked = picker.pick(kiosks, query.getlist("kiosk"), query.get("library", ""))
    if picked.unknown:
        errors.append(N_("A kiosk or library asked for is not one you may see; it was left out."))
    report = title_report.gather(_storage(request), picked.kiosks, today, month)
    return report, errors, kiosks, picked


@router.get("/figures/titles", response_class=HTMLResponse)
def titles_page(request: Request) -> HTMLResponse:
    user = _user(request)
    report, errors, kiosks, picked = _title_report(request, user)
    query = urlencode([("month", report.month.name), *(("kiosk", v) for v in picked.values)])
    return _render(request, "titles.html", {
        "user": user, "page": "figures", "report": report, "errors": errors,
        "groups": picker.groups(kiosks), "picked": picked, "query": query,
        "ending_days": title_report.ENDING_DAYS,
        "tables": title_report.tables(report, request.app.state.translator,
                                      _language(request))})


@router.get("/figures/titles.{fmt}")
def titles_download(request: Request, fmt: str) -> Response:
    user = _user(request)
    if fmt not in ("csv", "xlsx"):
        return Response("csv or xlsx", status_code=404)
    report, _errors, _kiosks, _picked = _title_report(request, user)
    tables = title_report.tables(report, request.app.state.translator, _language(request))
    return _report_file(tables, f"kiosk-titles-{report.month.name}", fmt)
