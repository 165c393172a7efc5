"""Staff sessions kept by the server. The cookie holds only a random token; the `sessions`
table holds its SHA-256, the user signed in (none before sign-in: then the session carries just
the sign-in form's CSRF token and the language) and a little JSON data. Sign-out deletes the row,
so a copied cookie stops working at once; so do disabling a user, a password change and a
removal (`end_user_sessions`, in the transaction of that change). A session ends after
`idle` without a request, and `absolute` after sign-in whatever happens.

`ServerSessions` is the ASGI middleware: it loads the session before the route (as Starlette's
`request.session` dict, "user" included), and at the answer's start stores what the route
changed and sets the cookie. It runs on uvicorn's event loop and hands each database call to a
worker thread; routes call `of(request).sign_in()`/`.sign_out()` on their own worker thread.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.auth import new_token, token_digest
from central.db import Conn, Database

COOKIE = "kiosk_central"
USER = "user"  # the key of `request.session` naming who is signed in (read only)
# A session's last-seen time is written at most this often, not on every request.
TOUCH_AFTER = dt.timedelta(minutes=1)
_SCOPE_KEY = "kiosk_central.session"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(moment: dt.datetime) -> str:
    """One fixed-width form, so stored times compare as text on both engines."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Limits:
    idle: dt.timedelta      # without a request for this long, the session ends
    absolute: dt.timedelta  # this long after it began, the session ends


@dataclass(frozen=True)
class Stored:
    digest: str
    user: str | None
    data: dict
    seen_utc: str


class SessionStore:
    """The `sessions` table; any thread."""

    def __init__(self, db: Database, limits: Limits) -> None:
        self.db = db
        self.limits = limits

    def load(self, token: str, now: dt.datetime) -> Stored | None:
        """The live session of this cookie token; an expired one, or one whose user is gone or
        disabled, is deleted and None."""
        digest = token_digest(token)
        with self.db.read() as conn:
            row = conn.one("SELECT s.user_name, s.data, s.created_utc, s.seen_utc, u.name, "
                           "u.disabled_utc FROM sessions s LEFT JOIN users u "
                           "ON u.name = s.user_name WHERE s.token_sha256 = ?", (digest,))
        if row is None:
            return None
        user, data, created, seen, known, disabled = row
        if (seen < stamp(now - self.limits.idle) or created < stamp(now - self.limits.absolute)
                or (user is not None and (known is None or disabled is not None))):
            with self.db.write() as conn:
                conn.execute("DELETE FROM sessions WHERE token_sha256 = ?", (digest,))
            return None
        return Stored(digest, user, json.loads(data), seen)

    def create(self, conn: Conn, user: str | None, data: dict, now: dt.datetime) -> str:
        """A new session; returns the token for the cookie (the table keeps its digest)."""
        conn.execute("DELETE FROM sessions WHERE seen_utc < ?", (stamp(now - self.limits.idle),))
        token = new_token()
        conn.execute("INSERT INTO sessions (token_sha256, user_name, data, created_utc, "
                     "seen_utc) VALUES (?, ?, ?, ?, ?)",
                     (token_digest(token), user, _json(data), stamp(now), stamp(now)))
        return token

    def save(self, digest: str, data: dict | None, now: dt.datetime) -> None:
        """The session was used now, and (unless None) its data changed."""
        with self.db.write() as conn:
            if data is None:
                conn.execute("UPDATE sessions SET seen_utc = ? WHERE token_sha256 = ?",
                             (stamp(now), digest))
            else:
                conn.execute("UPDATE sessions SET data = ?, seen_utc = ? WHERE "
                             "token_sha256 = ?", (_json(data), stamp(now), digest))


def end_user_sessions(conn: Conn, user: str) -> int:
    """Ends every session of `user` (disabled, removed, a new password); returns how many."""
    return conn.execute("DELETE FROM sessions WHERE user_name = ?", (user,)).rowcount


def _json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


@dataclass
class Session:
    """One request's session: what was stored, and what its route did to it."""
    store: SessionStore
    stored: Stored | None
    data: dict              # the route's `request.session`
    had_cookie: bool
    new_token: str | None = None
    saved: dict = field(default_factory=dict)  # the data as stored, "user" left out

    def sign_in(self, conn: Conn, user: str, now: dt.datetime) -> None:
        """A new session (a new token: one fixed before sign-in is worth nothing) for `user`,
        with the request's data; inside the caller's write transaction."""
        if self.stored is not None:
            conn.execute("DELETE FROM sessions WHERE token_sha256 = ?", (self.stored.digest,))
        self.saved = _without_user(self.data)
        self.new_token = self.store.create(conn, user, self.saved, now)
        self.stored = Stored(token_digest(self.new_token), user, dict(self.saved), stamp(now))
        self.data[USER] = user

    def sign_out(self, conn: Conn) -> None:
        """Deletes the session; the cookie is cleared unless the route stores something new."""
        if self.stored is not None:
            conn.execute("DELETE FROM sessions WHERE token_sha256 = ?", (self.stored.digest,))
        self.stored, self.new_token, self.saved = None, None, {}
        self.data.clear()


def of(request: HTTPConnection) -> Session:
    return request.scope[_SCOPE_KEY]


def _without_user(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != USER}


class ServerSessions:
    """ASGI middleware: `request.session` from the `sessions` table, the cookie its token."""

    def __init__(self, app: ASGIApp, store: SessionStore, *, secure: bool,
                 skip_prefix: str = "/static/") -> None:
        self.app = app
        self.store = store
        self.secure = secure
        self.skip_prefix = skip_prefix  # answers that never need a session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefix):
            await self.app(scope, receive, send)
            return
        token = HTTPConnection(scope).cookies.get(COOKIE)
        now = utc_now()
        stored = await run_in_threadpool(self.store.load, token, now) if token else None
        data = dict(stored.data) if stored else {}
        if stored is not None and stored.user is not None:
            data[USER] = stored.user
        session = Session(self.store, stored, data, had_cookie=bool(token),
                          saved=_without_user(data))
        scope["session"] = session.data
        scope[_SCOPE_KEY] = session

        async def settled(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await run_in_threadpool(self._settle, session, now)
                if cookie is not None:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, settled)

    def _settle(self, session: Session, now: dt.datetime) -> str | None:
        """Stores what the route changed; returns the Set-Cookie value, if one is due."""
        data = _without_user(session.data)
        if session.stored is None:
            if data:  # a visitor's first CSRF token or language: an anonymous session
                with self.store.db.write() as conn:
                    return self._cookie(self.store.create(conn, None, data, now))
            return self._cookie("") if session.had_cookie else None
        if data != session.saved:
            self.store.save(session.stored.digest, data, now)
        elif session.stored.seen_utc < stamp(now - TOUCH_AFTER):
            self.store.save(session.stored.digest, None, now)
        return self._cookie(session.new_token) if session.new_token else None

    def _cookie(self, token: str) -> str:
        age = int(self.store.limits.absolute.total_seconds()) if token else 0
        return (f"{COOKIE}={token}; Path=/; Max-Age={age}; HttpOnly; SameSite=Lax"
                + ("; Secure" if self.secure else ""))
