"""The audit log: who did what on the server, and when. Sign-ins and refused sign-ins, accounts
and kiosk tokens changed, count batches removed, releases published and withdrawn. Written in
the same transaction as the change it records, so neither exists without the other; read by
`kiosk-central audit` and the administrators' page. Runs on the calling thread.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass

from central.db import Conn

SERVER = "(server)"  # the actor of what the server does by itself (an account locked)
CLI = "(command line)"  # prefixed to the login name of whoever ran kiosk-central


class AuditAction(enum.StrEnum):
    """What happened; the values are stored and never change."""
    SIGN_IN = "sign_in"
    SIGN_IN_REFUSED = "sign_in_refused"
    ACCOUNT_LOCKED = "account_locked"
    SIGN_OUT = "sign_out"
    USER_ADDED = "user_added"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    USER_REMOVED = "user_removed"
    PASSWORD_CHANGED = "password_changed"
    KIOSK_ADDED = "kiosk_added"
    KIOSK_REVOKED = "kiosk_revoked"
    KIOSK_TOKEN_ROTATED = "kiosk_token_rotated"
    COUNTS_REMOVED = "counts_removed"
    RELEASE_PUBLISHED = "release_published"
    RELEASE_WITHDRAWN = "release_withdrawn"
    ADDRESS_BLOCKED = "address_blocked"  # too many refused sign-ins from one address


@dataclass(frozen=True)
class AuditEntry:
    at_utc: str
    actor: str      # a user name, "(command line) root", or SERVER
    action: AuditAction | str  # a str only for an action a newer server wrote
    subject: str    # what it was done to: a user, a kiosk, a batch id, a release
    address: str    # the client's address for what came over the network; "" otherwise
    detail: dict


def record(conn: Conn, actor: str, action: AuditAction, subject: str = "", *,
           address: str = "", detail: Mapping[str, object] | None = None) -> None:
    """One entry, inside the caller's write transaction."""
    conn.execute("INSERT INTO audit_log (at_utc, actor, action, subject, address, detail) "
                 "VALUES (?, ?, ?, ?, ?, ?)",
                 (_now(), actor[:200], action.value, subject[:200], address[:100],
                  json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True)))


@dataclass(frozen=True)
class Change:
    """Who makes a change and from where, handed down to the code that records it."""
    actor: str
    address: str = ""

    def record(self, conn: Conn, action: AuditAction, subject: str,
               detail: Mapping[str, object] | None = None) -> None:
        record(conn, self.actor, action, subject, address=self.address, detail=detail)


def _now() -> str:
    """To the microsecond: entries order by time, and one request may write several."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entries(conn: Conn, *, limit: int = 200, actor: str | None = None,
            action: AuditAction | None = None) -> list[AuditEntry]:
    """The newest entries first."""
    where, params = [], []
    if actor is not None:
        where.append("actor = ?")
        params.append(actor)
    if action is not None:
        where.append("action = ?")
        params.append(action.value)
    sql = ("SELECT at_utc, actor, action, subject, address, detail FROM audit_log"
           + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY at_utc DESC LIMIT ?")
    return [AuditEntry(at, who, _action(what), subject, address, json.loads(detail))
            for at, who, what, subject, address, detail in conn.all(sql, [*params, limit])]


def _action(value: str) -> AuditAction | str:
    try:
        return AuditAction(value)
    except ValueError:
        return value
