"""Each library's own names for its titles (issue 18): a kiosk's catalogue names its own
library's titles only, and the titles report and the figures' e-book names read the names of
the kiosk's library. A database of schema 2 keeps its one set of names, copied to every
library with kiosks. The real server on loopback, on SQLite and PostgreSQL."""

import datetime as dt
import sqlite3
import uuid

import pytest
import requests

from central.db import SCHEMA_VERSION
from central.storage import Storage
from tests.central_server import BACKENDS, PASSWORD, add_kiosk, add_user, database_url, serve
from tests.test_central_pages import signed_in

LILING, SANHE = "醴陵市图书馆", "三合村图书室"
UNTIL = (dt.date.today() + dt.timedelta(days=5)).isoformat()


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    storage = Storage.open(database_url(request.param, tmp_path))
    try:
        with serve(storage, tmp_path) as running:
            running.tokens = {"liling-lobby": add_kiosk(storage, "liling-lobby", LILING),
                              "sanhe-room": add_kiosk(storage, "sanhe-room", SANHE, "")}
            add_user(storage, "admin", "admin", LILING, PASSWORD)
            add_user(storage, "liling", "staff", LILING, PASSWORD)
            add_user(storage, "sanhe", "staff", SANHE, PASSWORD)
            yield running
    finally:
        storage.close()


def post(server, kiosk_id, path, body):
    answer = requests.post(f"{server.url}/api/v1/{path}", json=body, timeout=30, headers={
        "Authorization": f"Bearer {server.tokens[kiosk_id]}"})
    assert answer.status_code == 200, answer.text


def name_title(server, kiosk_id, title, category):
    post(server, kiosk_id, "catalogue", {"kiosk_id": kiosk_id, "version": "2026-12-1",
                                         "titles": [{"id": "000001", "title": title,
                                                     "author": "", "category": category,
                                                     "valid_from": "2026-01-01",
                                                     "valid_until": UNTIL}]})


def view(server, kiosk_id, n, first_seq=1):
    post(server, kiosk_id, "counts", {
        "kiosk_id": kiosk_id, "batch_id": str(uuid.uuid4()), "first_seq": first_seq,
        "last_seq": first_seq + n - 1, "counts": [
            {"date": "2026-11-05", "hour": 10, "event": "ebook_view", "outcome": "ok",
             "key": "book:000001", "n": n}]})


def section(html, element_id):
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</table>", start)]


def titles_page(session, server):
    return session.get(f"{server.url}/figures/titles?month=2026-11", timeout=10).text


def figures_titles(session, server):
    html = session.get(f"{server.url}/figures?from=2026-11-01&to=2026-11-30", timeout=10).text
    return section(html, "ebooks-titles")


def test_each_library_names_its_own_titles(server):
    name_title(server, "liling-lobby", "红楼梦", "classics")
    name_title(server, "sanhe-room", "家常菜谱", "life")  # the same id, another book
    view(server, "liling-lobby", 3)
    view(server, "sanhe-room", 4)
    with server.storage.db.read() as conn:
        assert sorted(map(tuple, conn.all("SELECT library, id, title FROM library_titles"))) \
            == sorted([(LILING, "000001", "红楼梦"), (SANHE, "000001", "家常菜谱")])

    liling, sanhe = signed_in(server, "liling"), signed_in(server, "sanhe")
    for session, own, other in ((liling, "红楼梦", "家常菜谱"), (sanhe, "家常菜谱", "红楼梦")):
        html = titles_page(session, server)
        for part in ("ending", "most-viewed"):
            assert own in section(html, part) and other not in section(html, part)
        table = figures_titles(session, server)
        assert own in table and other not in table

    # The administrator sees both libraries: two books, each with its own name and views.
    admin = signed_in(server, "admin")
    viewed = section(titles_page(admin, server), "most-viewed")
    assert viewed.index("家常菜谱") < viewed.index("红楼梦")  # 4 views before 3
    table = figures_titles(admin, server)
    assert "红楼梦" in table and "家常菜谱" in table

    # A later catalogue of one library renames its title there only.
    name_title(server, "liling-lobby", "红楼梦（脂评本）", "classics")
    assert "红楼梦（脂评本）" in section(titles_page(liling, server), "most-viewed")
    sanhe_viewed = section(titles_page(sanhe, server), "most-viewed")
    assert "家常菜谱" in sanhe_viewed and "红楼梦" not in sanhe_viewed


# The tables as schema 2 made them (before issue 18): one `titles` table for every library.
SCHEMA_2 = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE kiosks (
  id TEXT PRIMARY KEY, library TEXT NOT NULL, service_point TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE, created_utc TEXT NOT NULL, revoked_utc TEXT);
CREATE TABLE batches (
  batch_id TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL REFERENCES kiosks (id),
  first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, row_count INTEGER NOT NULL,
  received_utc TEXT NOT NULL);
CREATE INDEX batches_by_range ON batches (kiosk_id, first_seq);
CREATE TABLE counts (
  kiosk_id TEXT NOT NULL REFERENCES kiosks (id), day TEXT NOT NULL, hour INTEGER NOT NULL,
  event TEXT NOT NULL, outcome TEXT NOT NULL, title_key TEXT NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (kiosk_id, day, hour, event, outcome, title_key));
CREATE INDEX counts_by_day ON counts (day, event);
CREATE TABLE heartbeats (
  kiosk_id TEXT PRIMARY KEY REFERENCES kiosks (id), received_utc TEXT NOT NULL,
  body TEXT NOT NULL);
CREATE TABLE titles (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, author TEXT NOT NULL, category TEXT NOT NULL,
  version TEXT NOT NULL, updated_utc TEXT NOT NULL);
CREATE TABLE kiosk_titles (
  kiosk_id TEXT NOT NULL REFERENCES kiosks (id), title_id TEXT NOT NULL,
  valid_from TEXT, valid_until TEXT, PRIMARY KEY (kiosk_id, title_id));
CREATE INDEX kiosk_titles_by_end ON kiosk_titles (valid_until);
CREATE TABLE users (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, library TEXT NOT NULL,
  password_hash TEXT NOT NULL, created_utc TEXT NOT NULL);
CREATE TABLE releases (
  id BIGINT PRIMARY KEY, kind TEXT NOT NULL, version TEXT NOT NULL, size BIGINT NOT NULL,
  sha256 TEXT NOT NULL, file TEXT NOT NULL, all_libraries INTEGER NOT NULL,
  published_at TEXT NOT NULL, published_by TEXT NOT NULL, withdrawn_at TEXT,
  titles INTEGER);
CREATE INDEX releases_by_kind ON releases (kind, id);
CREATE TABLE release_libraries (
  release_id BIGINT NOT NULL REFERENCES releases (id), library TEXT NOT NULL,
  PRIMARY KEY (release_id, library));
INSERT INTO meta VALUES ('schema', '2');
INSERT INTO kiosks VALUES ('a-1', '醴陵市图书馆', '借阅台', 'x1', '2026-01-01T00:00:00.000Z', NULL);
INSERT INTO kiosks VALUES ('a-2', '醴陵市图书馆', '少儿', 'x2', '2026-01-01T00:00:00.000Z',
  '2026-06-01T00:00:00.000Z');
INSERT INTO kiosks VALUES ('b-1', '三合村图书室', '', 'x3', '2026-01-01T00:00:00.000Z', NULL);
INSERT INTO titles VALUES ('000001', '红楼梦', '曹雪芹', 'classics', '2026-11-1',
  '2026-11-02T00:00:00.000Z');
INSERT INTO titles VALUES ('000002', '家常菜谱', '', 'life', '2026-11-1',
  '2026-11-02T00:00:00.000Z')
"""


def make_schema_2(url):
    statements = [s for s in SCHEMA_2.split(";") if s.strip()]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
            for statement in statements:
                raw.execute(statement)
        return
    import psycopg
    with psycopg.connect(url, autocommit=True) as raw:
        for statement in statements:
            raw.execute(statement)


@pytest.mark.parametrize("backend", BACKENDS)
def test_schema_2_names_go_to_every_library_with_kiosks(backend, tmp_path):
    url = database_url(backend, tmp_path)
    make_schema_2(url)
    storage = Storage.open(url)
    try:
        with storage.db.read() as conn:
            assert conn.value("SELECT value FROM meta WHERE name = 'schema'") == SCHEMA_VERSION
            rows = sorted(map(tuple, conn.all(
                "SELECT library, id, title, author, category, version FROM library_titles")))
        assert rows == sorted(
            (library, *title) for library in (LILING, SANHE) for title in (
                ("000001", "红楼梦", "曹雪芹", "classics", "2026-11-1"),
                ("000002", "家常菜谱", "", "life", "2026-11-1")))
    finally:
        storage.close()
    again = Storage.open(url)  # a second start migrates nothing more
    try:
        with again.db.read() as conn:
            assert conn.value("SELECT COUNT(*) FROM library_titles") == 4
    finally:
        again.close()
