"""The staff pages' security headers, FastAPI's documentation pages off by default, and the
SQLite file readable by its owner alone; over HTTP against the real server."""

from __future__ import annotations

import re
import stat

import pytest
import requests

from central.storage import Storage
from tests.central_server import PASSWORD, add_user, database_url, serve
from tests.test_central_pages import signed_in


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("security")
    storage = Storage.open(database_url("sqlite", tmp))
    add_user(storage, "admin", "admin", "醴陵市图书馆", PASSWORD)
    try:
        with serve(storage, tmp) as server:
            yield server
    finally:
        storage.close()


def test_pages_carry_a_policy_that_forbids_framing(running):
    session = signed_in(running, "admin")
    for path in ("/login", "/fleet", "/figures", "/figures/report.csv", "/batches",
                 "/accounts", "/releases"):
        answer = session.get(running.url + path, timeout=10)
        assert answer.status_code == 200, path
        headers = answer.headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split(
            "style-src-attr")[0]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store", path
        if "html" in headers["content-type"]:
            nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
            styles = re.findall(r"<style([^>]*)>", answer.text)
            assert styles == [f' nonce="{nonce}"'], path
            assert not re.search(r"<script(?![^>]*(src=|application/json))", answer.text)
            assert not re.search(r"\son[a-z]+=", answer.text)  # no inline event handlers
    assert session.get(running.url + "/login", timeout=10).headers[
        "content-security-policy"] != policy  # a nonce per answer


def test_static_files_and_the_kiosk_api_may_be_cached(running):
    for path in ("/static/releases.js", "/api/v1/health"):
        answer = requests.get(running.url + path, timeout=10)
        assert answer.status_code == 200
        assert "cache-control" not in answer.headers
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_api_docs_are_off_by_default_and_the_description_stays(running):
    for path in ("/docs", "/redoc"):
        assert requests.get(running.url + path, timeout=10).status_code == 404
    assert requests.get(running.url + "/openapi.json", timeout=10).json()["paths"]


def test_api_docs_when_asked_for(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path, api_docs=True) as server:
            docs = requests.get(server.url + "/docs", timeout=10)
            assert docs.status_code == 200 and "swagger" in docs.text.lower()
            assert "content-security-policy" not in docs.headers
            assert "content-security-policy" in requests.get(
                server.url + "/login", timeout=10).headers
    finally:
        storage.close()


def test_the_sqlite_file_and_its_journal_are_the_owners_alone(tmp_path):
    path = tmp_path / "central.sqlite3"
    path.write_bytes(b"")
    path.chmod(0o644)  # as an older server left it
    storage = Storage.open(f"sqlite:///{path}")
    try:
        add_user(storage, "admin", "admin", "L", PASSWORD)
        for name in ("central.sqlite3", "central.sqlite3-wal", "central.sqlite3-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    finally:
        storage.close()
    fresh = tmp_path / "new" / "central.sqlite3"
    Storage.open(f"sqlite:///{fresh}").close()
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
