"""Changes administrators make to staff accounts and kiosk tokens (`kiosk-central user ...`,
`kiosk-central kiosk rotate`, the accounts page): each in one transaction with the audit entry
that records it, and ending the user's sessions where the change must (disabled, removed, a
new password). Runs on the calling thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from central import audit
from central.audit import AuditAction
from central.db import Conn, Database
from central.errors import CentralError, NotFound
from central.sessions import end_user_sessions
from central.storage import utc_now


class LastAdministrator(CentralError, ValueError):
    """The change would leave no administrator able to sign in."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    library: str
    created_utc: str
    disabled_utc: str | None
    sessions: int  # sessions stored for it (signed in somewhere, unless since expired)


def accounts(db: Database) -> list[Account]:
    with db.read() as conn:
        rows = conn.all("SELECT u.name, u.role, u.library, u.created_utc, u.disabled_utc, "
                        "COUNT(s.token_sha256) FROM users u LEFT JOIN sessions s "
                        "ON s.user_name = u.name GROUP BY u.name, u.role, u.library, "
                        "u.created_utc, u.disabled_utc ORDER BY u.name")
    return [Account(name, role, library, created, disabled, int(sessions))
            for name, role, library, created, disabled, sessions in rows]


def disable(db: Database, name: str, actor: str, address: str = "") -> int:
    """The account can no longer sign in; its sessions end now. Returns how many ended."""
    with db.write() as conn:
        _keep_an_administrator(conn, name)
        conn.execute("UPDATE users SET disabled_utc = ? WHERE name = ? AND disabled_utc "
                     "IS NULL", (utc_now(), name))
        ended = end_user_sessions(conn, name)
        audit.record(conn, actor, AuditAction.USER_DISABLED, name, address=address,
                     detail={"sessions_ended": ended})
    return ended


def enable(db: Database, name: str, actor: str, address: str = "") -> None:
    with db.write() as conn:
        _role(conn, name)
        conn.execute("UPDATE users SET disabled_utc = NULL WHERE name = ?", (name,))
        audit.record(conn, actor, AuditAction.USER_ENABLED, name, address=address)


def remove(db: Database, name: str, actor: str, address: str = "") -> int:
    """The account is gone (its audit entries stay); returns how many sessions ended."""
    with db.write() as conn:
        _keep_an_administrator(conn, name)
        ended = end_user_sessions(conn, name)
        conn.execute("DELETE FROM users WHERE name = ?", (name,))
        audit.record(conn, actor, AuditAction.USER_REMOVED, name, address=address,
                     detail={"sessions_ended": ended})
    return ended


def set_password(db: Database, name: str, password_hash: str, actor: str,
                 address: str = "") -> int:
    """A new password; every session of the account ends. Returns how many."""
    with db.write() as conn:
        _role(conn, name)
        conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))
        ended = end_user_sessions(conn, name)
        audit.record(conn, actor, AuditAction.PASSWORD_CHANGED, name, address=address,
                     detail={"sessions_ended": ended})
    return ended


def rotate_kiosk_token(db: Database, kiosk_id: str, token_sha256: str, actor: str) -> bool:
    """The kiosk's new token; the old one stops working now. The kiosk keeps its id, counts
    and heartbeats; a revoked kiosk is taken back into service. Returns whether it had been
    revoked."""
    with db.write() as conn:
        row = conn.one("SELECT revoked_utc FROM kiosks WHERE id = ?", (kiosk_id,))
        if row is None:
            raise NotFound(f"no kiosk named {kiosk_id!r}")
        conn.execute("UPDATE kiosks SET token_sha256 = ?, revoked_utc = NULL WHERE id = ?",
                     (token_sha256, kiosk_id))
        audit.record(conn, actor, AuditAction.KIOSK_TOKEN_ROTATED, kiosk_id,
                     detail={"was_revoked": row[0] is not None})
    return row[0] is not None


def _role(conn: Conn, name: str) -> str:
    row = conn.one("SELECT role FROM users WHERE name = ?", (name,))
    if row is None:
        raise NotFound(f"no user named {name!r}")
    return row[0]


def _keep_an_administrator(conn: Conn, name: str) -> None:
    """Refuses to disable or remove the last administrator who can sign in: nobody could
    then use the administrators' pages (the command line still could add one)."""
    if _role(conn, name) != "admin":
        return
    others = conn.value("SELECT COUNT(*) FROM users WHERE role = 'admin' AND name <> ? "
                        "AND disabled_utc IS NULL", (name,))
    if others == 0:
        raise LastAdministrator(f"{name!r} is the last administrator who can sign in; add "
                                "or enable another first")
