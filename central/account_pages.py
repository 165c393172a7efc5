"""The administrators' "Accounts and audit" page: every staff account with a button to
disable or enable it, and the newest audit entries. Administrators only; the buttons post the
session's CSRF token. Plain functions on FastAPI's worker threads.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central import accounts, audit, fleet
from central.accounts import LastAdministrator
from central.audit import AuditAction
from central.auth import same_secret
from central.errors import NotFound
from central.i18n import N_
from central.pages import _render, _storage, _user

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
RECENT = 100  # audit entries shown

ACTION_NAMES = {
    AuditAction.SIGN_IN: N_("Signed in"),
    AuditAction.SIGN_IN_REFUSED: N_("Sign-in refused"),
    AuditAction.ACCOUNT_LOCKED: N_("Account locked"),
    AuditAction.ADDRESS_BLOCKED: N_("Address refused"),
    AuditAction.SIGN_OUT: N_("Signed out"),
    AuditAction.USER_ADDED: N_("Account added"),
    AuditAction.USER_DISABLED: N_("Account disabled"),
    AuditAction.USER_ENABLED: N_("Account enabled"),
    AuditAction.USER_REMOVED: N_("Account removed"),
    AuditAction.PASSWORD_CHANGED: N_("Password changed"),
    AuditAction.KIOSK_ADDED: N_("Kiosk added"),
    AuditAction.KIOSK_REVOKED: N_("Kiosk token revoked"),
    AuditAction.KIOSK_TOKEN_ROTATED: N_("Kiosk token replaced"),
    AuditAction.COUNTS_REMOVED: N_("Counts removed"),
    AuditAction.RELEASE_PUBLISHED: N_("Release published"),
    AuditAction.RELEASE_WITHDRAWN: N_("Release withdrawn"),
}

# The audit entries' detail keys, as the page names them (others are shown as stored).
DETAIL_NAMES = {
    "sessions_ended": N_("sessions ended"),
    "was_revoked": N_("was revoked"),
    "reason": N_("reason"),
    "failures": N_("failures"),
    "minutes": N_("minutes"),
    "library": N_("library"),
    "service_point": N_("service point"),
    "role": N_("role"),
    "kiosk": N_("kiosk"),
    "first_seq": N_("first row"),
    "last_seq": N_("last row"),
    "counts": N_("counts"),
    "n": N_("events"),
    "received_utc": N_("received (UTC)"),
    "kind": N_("kind"),
    "version": N_("version"),
    "by": N_("published by"),
    "libraries": N_("libraries"),
}


def _page(request: Request, status: int = 200, error: str | None = None,
          error_args: dict | None = None) -> HTMLResponse:
    user = _user(request)
    if user.role != "admin":
        return _render(request, "accounts.html", {"user": user, "page": "accounts",
                                                  "forbidden": True}, status=403)
    storage = _storage(request)
    with storage.db.read() as conn:
        recent = audit.entries(conn, limit=RECENT)
    zone = request.app.state.config.zone
    return _render(request, "accounts.html", {
        "zone": fleet.zone_label(zone, request.app.state.clock()),
        "local_time": lambda utc, seconds=False: fleet.local_time(utc, zone, seconds=seconds),
        "user": user, "page": "accounts", "forbidden": False, "error": error,
        "error_args": error_args or {}, "accounts": accounts.accounts(storage.db),
        "entries": recent, "action_names": ACTION_NAMES,
        "detail_names": DETAIL_NAMES}, status=status)


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/accounts/{change}")
def change_account(request: Request, change: str, name: str = Form(""),
                   csrf: str = Form("")) -> Response:
    user = _user(request)
    if (user.role != "admin" or change not in ("disable", "enable")
            or not same_secret(csrf, request.session.get("csrf"))):
        return RedirectResponse("/accounts", status_code=303)
    db = _storage(request).db
    address = request.client.host if request.client else ""
    try:
        if change == "disable":
            accounts.disable(db, name, user.name, address)
        else:
            accounts.enable(db, name, user.name, address)
    except LastAdministrator:
        return _page(request, 409, N_("{name} is the last administrator who can sign in; "
                                      "enable or add another first."), {"name": name})
    except NotFound:
        return RedirectResponse("/accounts", status_code=303)
    log.info("%s: %s %s", user.name, change, name)
    return RedirectResponse("/accounts", status_code=303)  # to /login if it was oneself
