"""Staff sign-in over HTTP against the real server, on SQLite and PostgreSQL: the throttle
per account and per address (counted in the database, so two server processes count
together), server-side sessions that sign-out ends, their idle and absolute limits, and the
audit entries each leaves."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests

from central import audit
from central.audit import AuditAction
from central.auth import token_digest
from central.sessions import COOKIE, stamp
from central.storage import Storage
from tests.central_server import BACKENDS, PASSWORD, add_user, database_url, serve
from tests.test_central_pages import csrf_of, sign_in, signed_in

LONG_AGO = "2000-01-01T00:00:00.000000Z"


@pytest.fixture(scope="module", params=BACKENDS)
def running(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    storage = Storage.open(database_url(request.param, tmp))
    for name, role in (("admin", "admin"), ("liling", "staff"), ("wang", "staff")):
        add_user(storage, name, role, "醴陵市图书馆", PASSWORD)
    try:
        with serve(storage, tmp) as server:
            yield server
    finally:
        storage.close()


@pytest.fixture
def server(running):
    """Each test starts with no failures counted and no sessions."""
    with running.storage.db.write() as conn:
        for table in ("signin_failures", "signin_blocks", "sessions", "audit_log"):
            conn.execute(f"DELETE FROM {table}")
    return running


def entries(server, **which):
    with server.storage.db.read() as conn:
        return audit.entries(conn, **which)


def test_ten_wrong_passwords_lock_the_account_for_a_while(server, tmp_path):
    answers = [sign_in(server, "admin", "wrong guess")[1] for _ in range(9)]
    assert {a.status_code for a in answers} == {401}
    _s, tenth = sign_in(server, "admin", "wrong guess")
    assert tenth.status_code == 429 and "尝试次数过多，请 15 分钟后再试" in tenth.text
    assert 890 <= int(tenth.headers["retry-after"]) <= 900
    _s, right = sign_in(server, "admin")  # the right password, refused untried
    assert right.status_code == 429 and "15 分钟后再试" in right.text
    # A name no account has answers the same, attempt for attempt.
    ghost = [sign_in(server, "ghost", "wrong guess")[1].status_code for _ in range(11)]
    assert ghost == [401] * 9 + [429, 429]
    assert sign_in(server, "liling")[1].status_code == 303  # other accounts sign in
    refused = entries(server, action=AuditAction.SIGN_IN_REFUSED)
    assert len(refused) == 20 and {e.address for e in refused} == {"127.0.0.1"}
    assert {e.detail["reason"] for e in refused if e.subject == "ghost"} == {"unknown name"}
    locked = entries(server, action=AuditAction.ACCOUNT_LOCKED)
    assert [(e.actor, e.subject, e.detail) for e in locked] == [
        (audit.SERVER, "ghost", {"failures": 10, "minutes": 15}),
        (audit.SERVER, "admin", {"failures": 10, "minutes": 15})]
    with server.storage.db.write() as conn:  # fifteen minutes later
        conn.execute("UPDATE signin_blocks SET until_utc = ?", (LONG_AGO,))
    assert sign_in(server, "admin")[1].status_code == 303
    signed = entries(server, action=AuditAction.SIGN_IN)
    assert [(e.actor, e.address) for e in signed] == [("admin", "127.0.0.1"),
                                                      ("liling", "127.0.0.1")]


def test_two_server_processes_count_failures_together(server, tmp_path):
    other = Storage.open(server.storage.db.url)
    try:
        with serve(other, tmp_path) as second:
            codes = [sign_in(place, "wang", "wrong guess")[1].status_code
                     for place in [server, second] * 5]
            assert codes == [401] * 9 + [429]
            assert sign_in(server, "wang")[1].status_code == 429
            assert sign_in(second, "wang")[1].status_code == 429
    finally:
        other.close()


def test_one_address_guessing_many_names_is_refused(server):
    codes = [sign_in(server, f"name{i}", "wrong guess")[1].status_code for i in range(30)]
    assert codes == [401] * 29 + [429]
    _s, answer = sign_in(server, "liling")  # a right password, from that address
    assert answer.status_code == 429 and "15 分钟后再试" in answer.text
    blocked = entries(server, action=AuditAction.ADDRESS_BLOCKED)
    assert [(e.subject, e.detail) for e in blocked] == [("127.0.0.1", {"failures": 30,
                                                                        "minutes": 15})]
    with server.storage.db.write() as conn:
        conn.execute("UPDATE signin_blocks SET until_utc = ?", (LONG_AGO,))
    assert sign_in(server, "liling")[1].status_code == 303


def test_the_lock_message_in_english(server):
    session = requests.Session()
    session.get(f"{server.url}/lang/en", timeout=10)
    for _ in range(10):
        page = session.get(f"{server.url}/login", timeout=10)
        answer = session.post(f"{server.url}/login", timeout=30, data={
            "name": "wang", "password": "no", "csrf": csrf_of(page.text)})
    assert "Too many attempts. Try again in 15 minutes." in answer.text


def cookie_of(session):
    return next(c.value for c in session.cookies if c.name == COOKIE)


def test_the_cookie_holds_only_a_token_the_server_keeps_hashed(server):
    session = requests.Session()
    session.get(f"{server.url}/login", timeout=10)
    before = cookie_of(session)
    answer = session.post(f"{server.url}/login", allow_redirects=False, timeout=30, data={
        "name": "admin", "password": PASSWORD,
        "csrf": csrf_of(session.get(f"{server.url}/login", timeout=10).text)})
    assert answer.status_code == 303
    after = cookie_of(session)
    assert after != before and re.fullmatch(r"[A-Za-z0-9_-]{43}", after)
    with server.storage.db.read() as conn:
        rows = conn.all("SELECT token_sha256, user_name FROM sessions")
    assert (token_digest(after), "admin") in rows
    assert token_digest(before) not in {r[0] for r in rows}  # a session fixed before is gone
    assert after not in str(rows)


def test_sign_out_ends_the_session_on_the_server(server):
    session = signed_in(server, "liling")
    stolen = cookie_of(session)
    page = session.get(f"{server.url}/fleet", timeout=10)
    session.post(f"{server.url}/logout", data={"csrf": csrf_of(page.text)}, timeout=10)
    thief = requests.Session()
    thief.cookies.set(COOKIE, stolen)
    answer = thief.get(f"{server.url}/fleet", allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert [e.actor for e in entries(server, action=AuditAction.SIGN_OUT)] == ["liling"]


def test_sessions_end_when_idle_and_after_the_absolute_limit(server):
    for column, age in (("seen_utc", dt.timedelta(minutes=61)),
                        ("created_utc", dt.timedelta(hours=12, minutes=1))):
        session = signed_in(server, "admin")
        assert session.get(f"{server.url}/fleet", timeout=10).url.endswith("/fleet")
        with server.storage.db.write() as conn:
            conn.execute(f"UPDATE sessions SET {column} = ? WHERE user_name = 'admin'",
                         (stamp(dt.datetime.now(dt.timezone.utc) - age),))
        answer = session.get(f"{server.url}/fleet", allow_redirects=False, timeout=10)
        assert answer.status_code == 303, column
        assert "max-age=0" in answer.headers["set-cookie"].lower()
    with server.storage.db.read() as conn:
        assert conn.value("SELECT COUNT(*) FROM sessions WHERE user_name = 'admin'") == 0


def sign_in_from(server, address, name, password):
    session = requests.Session()
    session.headers["X-Forwarded-For"] = address
    page = session.get(f"{server.url}/login", timeout=10)
    return session.post(f"{server.url}/login", timeout=30, allow_redirects=False, data={
        "name": name, "password": password, "csrf": csrf_of(page.text)})


def test_behind_a_trusted_proxy_each_client_counts_apart(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    add_user(storage, "liling", "staff", "L", PASSWORD)
    try:
        with serve(storage, tmp_path, trusted_proxies="127.0.0.1") as proxied:
            codes = [sign_in_from(proxied, "10.0.0.1", f"n{i}", "x").status_code
                     for i in range(30)]
            assert codes[-2:] == [401, 429]
            assert sign_in_from(proxied, "10.0.0.1", "liling", PASSWORD).status_code == 429
            assert sign_in_from(proxied, "10.0.0.2", "liling", PASSWORD).status_code == 303
            assert entries(proxied, action=AuditAction.SIGN_IN)[0].address == "10.0.0.2"
    finally:
        storage.close()


def test_without_a_trusted_proxy_the_header_is_not_believed(server):
    assert server.config.trusted_proxies == ""  # tests/central_server.py: no proxy
    assert sign_in_from(server, "10.9.9.9", "liling", PASSWORD).status_code == 303
    assert entries(server, action=AuditAction.SIGN_IN)[0].address == "127.0.0.1"
