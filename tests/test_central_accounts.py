"""Staff accounts and kiosk tokens changed with `kiosk-central` (run as a subprocess) while the
real server runs, on SQLite and PostgreSQL: disabling, removing and a new password end the
account's sessions at once; a rotated kiosk token replaces the old one and the kiosk keeps its
history; each change is in the audit log, which `kiosk-central audit` lists."""

from __future__ import annotations

import re
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
import requests

from central import audit, cli, fleet
from central.audit import AuditAction
from central.storage import Storage
from tests.central_server import (
    BACKENDS,
    PASSWORD,
    add_kiosk,
    add_user,
    batch,
    database_url,
    serve,
    totals,
)
from tests.conftest import ROOT
from tests.test_central_pages import sign_in, signed_in

ME = f"{audit.CLI} {cli._login_name()}"


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    storage = Storage.open(database_url(request.param, tmp_path))
    for name, role in (("admin", "admin"), ("wang", "staff")):
        add_user(storage, name, role, "醴陵市图书馆", PASSWORD)
    try:
        with serve(storage, tmp_path) as running:
            yield running
    finally:
        storage.close()


def central(server, *argv, stdin=""):
    return subprocess.run([sys.executable, "-m", "central.cli", *argv, "--db",
                           server.storage.db.url], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=120)


def signed_out(server, session):
    answer = session.get(f"{server.url}/fleet", allow_redirects=False, timeout=10)
    return answer.status_code == 303 and answer.headers["location"].startswith("/login")


def entries(server, **which):
    with server.storage.db.read() as conn:
        return audit.entries(conn, **which)


def test_disabling_ends_the_sessions_and_enabling_lets_back_in(server):
    session = signed_in(server, "wang")
    done = central(server, "user", "disable", "wang")
    assert done.returncode == 0 and "1 sessions ended" in done.stderr, done.stderr
    assert signed_out(server, session)
    _s, refused = sign_in(server, "wang")  # the right password, the same answer as a wrong one
    assert refused.status_code == 401 and "用户名或密码错误" in refused.text
    listed = central(server, "user", "list").stdout.splitlines()
    assert listed[1].startswith("wang\tstaff\t醴陵市图书馆\tadded ") and "disabled" in listed[1]
    assert central(server, "user", "enable", "wang").returncode == 0
    assert sign_in(server, "wang")[1].status_code == 303
    changes = [(e.actor, e.action, e.subject, e.detail) for e in entries(server)
               if e.actor == ME]
    assert changes == [(ME, AuditAction.USER_ENABLED, "wang", {}),
                       (ME, AuditAction.USER_DISABLED, "wang", {"sessions_ended": 1})]
    assert entries(server, action=AuditAction.SIGN_IN_REFUSED)[0].detail == {
        "reason": "disabled"}


def test_a_new_password_from_stdin_ends_the_sessions(server):
    session = signed_in(server, "wang")
    refused = central(server, "user", "passwd", "wang", "a new long password")
    assert refused.returncode == 2  # never on the command line
    done = central(server, "user", "passwd", "wang", stdin="a new long password\n")
    assert done.returncode == 0, done.stderr
    assert signed_out(server, session)
    assert sign_in(server, "wang")[1].status_code == 401
    assert sign_in(server, "wang", "a new long password")[1].status_code == 303
    short = central(server, "user", "passwd", "wang", stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    nobody = central(server, "user", "passwd", "nobody", stdin="a new long password\n")
    assert nobody.returncode == 2 and "no user named 'nobody'" in nobody.stderr
    assert [e.subject for e in entries(server, action=AuditAction.PASSWORD_CHANGED)] == [
        "wang"]


def test_removing_ends_the_sessions_but_never_the_last_administrator(server):
    session = signed_in(server, "wang")
    assert central(server, "user", "remove", "wang").returncode == 0
    assert signed_out(server, session)
    assert "wang" not in central(server, "user", "list").stdout
    last = central(server, "user", "remove", "admin")
    assert last.returncode == 2 and "last administrator" in last.stderr
    assert central(server, "user", "disable", "admin").returncode == 2
    assert sign_in(server, "admin")[1].status_code == 303


def test_a_rotated_kiosk_token_replaces_the_old_one(server):
    old = add_kiosk(server.storage, "lobby-1")
    first = batch("lobby-1", 1, [{"date": "2026-11-24", "hour": 9, "event": "checkout",
                                  "outcome": "ok", "key": None, "n": 3}])
    requests.post(f"{server.url}/api/v1/counts", json=first, timeout=30,
                  headers={"Authorization": f"Bearer {old}"}).raise_for_status()
    done = central(server, "kiosk", "rotate", "lobby-1")
    assert done.returncode == 0 and "shown only now" in done.stderr, done.stderr
    new = done.stdout.strip()
    assert len(new) >= 43 and new != old
    second = batch("lobby-1", 4, [{"date": "2026-11-24", "hour": 10, "event": "checkout",
                                   "outcome": "ok", "key": None, "n": 2}])
    stale = requests.post(f"{server.url}/api/v1/counts", json=second, timeout=30,
                          headers={"Authorization": f"Bearer {old}"})
    assert stale.status_code == 401
    requests.post(f"{server.url}/api/v1/counts", json=second, timeout=30,
                  headers={"Authorization": f"Bearer {new}"}).raise_for_status()
    assert totals(server.storage, "lobby-1") == {"checkout": 5}  # the history stays
    # A revoked kiosk, given a new token, is back in service under its own name.
    assert central(server, "kiosk", "revoke", "lobby-1").returncode == 0
    again = central(server, "kiosk", "rotate", "lobby-1")
    assert "back in service" in again.stderr
    listed = central(server, "kiosk", "list").stdout
    assert listed.startswith("lobby-1\t") and "active" in listed
    assert central(server, "kiosk", "rotate", "nobody").returncode == 2
    assert [(e.action, e.detail) for e in entries(server, actor=ME)] == [
        (AuditAction.KIOSK_TOKEN_ROTATED, {"was_revoked": True}),
        (AuditAction.KIOSK_REVOKED, {}),
        (AuditAction.KIOSK_TOKEN_ROTATED, {"was_revoked": False})]


def test_the_audit_command_lists_and_filters(server):
    sign_in(server, "wang", "wrong guess")
    sign_in(server, "wang")
    assert central(server, "kiosk", "add", "lobby-2", "--library", "L").returncode == 0
    lines = central(server, "audit").stdout.splitlines()
    assert [line.split("\t")[1:4] for line in lines] == [
        [ME, "kiosk_added", "lobby-2"], ["wang", "sign_in", "wang"],
        ["wang", "sign_in_refused", "wang"]]
    assert lines[0].endswith('\t-\t{"library": "L", "service_point": ""}')
    assert lines[1].split("\t")[4] == "127.0.0.1"
    assert len(central(server, "audit", "--limit", "1").stdout.splitlines()) == 1
    only = central(server, "audit", "--action", "sign_in_refused").stdout.splitlines()
    assert len(only) == 1 and '"reason": "wrong password"' in only[0]
    assert len(central(server, "audit", "--actor", ME).stdout.splitlines()) == 1
    wrong = central(server, "audit", "--action", "teleported")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr


def test_the_accounts_page_is_for_administrators(server):
    staff = signed_in(server, "wang")
    page = staff.get(f"{server.url}/accounts", timeout=10)
    assert page.status_code == 403 and "只有管理员可以查看账户和审计日志" in page.text
    assert 'href="/accounts"' not in page.text  # not in the staff's menu
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    staff.post(f"{server.url}/accounts/disable", data={"name": "admin", "csrf": csrf},
               timeout=10)
    assert sign_in(server, "admin")[1].status_code == 303  # nothing changed


def test_an_administrator_disables_and_enables_from_the_page(server):
    wang = signed_in(server, "wang")
    admin = signed_in(server, "admin")
    page = admin.get(f"{server.url}/accounts", timeout=10).text
    assert "账户与审计" in page and 'href="/accounts" class="here"' in page
    rows = dict(re.findall(r'<tr data-user="([^"]+)"[^>]*>(.*?)</tr>', page, re.S))
    assert set(rows) == {"admin", "wang"} and "正常" in rows["wang"]
    assert '<tr data-action="sign_in">' in page and "登录" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    forged = admin.post(f"{server.url}/accounts/disable", data={"name": "wang",
                                                                "csrf": "guess"}, timeout=10)
    assert forged.url.endswith("/accounts") and not signed_out(server, wang)
    done = admin.post(f"{server.url}/accounts/disable", data={"name": "wang", "csrf": csrf},
                      timeout=10)
    assert done.url.endswith("/accounts") and "已于" in done.text
    # Times in the library's zone (Asia/Shanghai by default), as on the fleet page.
    disabled = server.storage.user("wang").disabled_utc
    shanghai = fleet.local_time(disabled, ZoneInfo("Asia/Shanghai"))
    assert f"已于 {shanghai} 停用" in done.text and "时间（Asia/Shanghai (UTC+08:00)）" in done.text
    assert "结束的会话: 1" in done.text and "sessions_ended" not in done.text  # details in words
    assert signed_out(server, wang)
    last = admin.post(f"{server.url}/accounts/disable", data={"name": "admin", "csrf": csrf},
                      timeout=10)
    assert last.status_code == 409 and "admin 是最后一个可以登录的管理员" in last.text
    admin.post(f"{server.url}/accounts/enable", data={"name": "wang", "csrf": csrf},
               timeout=10)
    assert sign_in(server, "wang")[1].status_code == 303
    changes = [(e.actor, e.action, e.subject, e.address) for e in entries(server)
               if e.action in (AuditAction.USER_DISABLED, AuditAction.USER_ENABLED)]
    assert changes == [("admin", AuditAction.USER_ENABLED, "wang", "127.0.0.1"),
                       ("admin", AuditAction.USER_DISABLED, "wang", "127.0.0.1")]
    admin.get(f"{server.url}/lang/en", timeout=10)
    english = admin.get(f"{server.url}/accounts", timeout=10).text
    assert "Accounts and audit" in english and "Account disabled" in english


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_of_schema_two_gets_the_account_tables(backend, tmp_path):
    url = database_url(backend, tmp_path)
    Storage.open(url).close()
    old = Storage.open(url)  # brought back to what schema 2 had
    with old.db.write() as conn:
        conn.execute("ALTER TABLE users DROP COLUMN disabled_utc")
        for table in ("sessions", "signin_failures", "signin_blocks"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("UPDATE meta SET value = '2' WHERE name = 'schema'")
        conn.execute("INSERT INTO users (name, role, library, password_hash, created_utc) "
                     "VALUES ('wang', 'staff', 'L', 'x', '2026-01-01T00:00:00.000Z')")
    old.close()
    storage = Storage.open(url)
    try:
        assert storage.user("wang").disabled_utc is None
        with storage.db.read() as conn:
            assert conn.value("SELECT COUNT(*) FROM sessions") == 0
            assert conn.value("SELECT value FROM meta WHERE name = 'schema'") == "3"
    finally:
        storage.close()
