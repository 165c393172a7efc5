"""The fleet page's e-book catalogue column: each kiosk's catalogue version, whether it is
behind the newest batch published for its library, and a batch under way or failed, from the
heartbeat's `catalogue` and `delivery.catalogue` (issue 17). Pure assessments, then the real
server on SQLite over HTTP in both languages."""

import datetime as dt

import pytest
import requests

from central import fleet
from central.storage import FleetEntry, Kiosk, Storage
from tests.central_server import PASSWORD, add_kiosk, add_user, database_url, serve
from tests.test_central_pages import signed_in

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)


def entry(catalogue=None, **delivery):
    kiosk = Kiosk("k1", "L", "P", "2026-01-01T00:00:00.000Z", None)
    body = {"devices": {}, "ils": "ok", "catalogue": catalogue,
            "delivery": {"catalogue": delivery} if delivery else None}
    return FleetEntry(kiosk, NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"), body, None, None)


@pytest.mark.parametrize(("shown", "newest", "behind"), [
    ("2026-11-1", "2026-12", True),
    ("2026-12-1", "2026-12", False),    # that batch, applied once
    ("2026-12-2", "2026-12", False),    # applied again after a rollback
    ("2026-12-1", "2026-12b", True),    # a second batch that month
    ("2026-9-1", "2026-10", True),      # digits as numbers
    ("2027-01-1", "2026-12", False),    # newer than the server's (published, then withdrawn)
    (None, "2026-12", True),            # no catalogue at all
    ("2026-11-1", None, False),         # nothing published: nothing to be behind
])
def test_behind_the_newest_batch(shown, newest, behind):
    row = fleet.assess(entry(shown), NOW, 60, newest)
    assert (row.catalogue, row.behind, row.newest_batch) == (shown, behind, newest)
    assert row.health == fleet.OK  # behind alone is no fault: the kiosk pulls it at night


def test_a_batch_under_way_or_failed():
    down = fleet.assess(entry("2026-11-1", version="2026-12", state="downloading",
                              done_bytes=30, total_bytes=120, at="x"), NOW, 60, "2026-12")
    assert down.pending_batch == fleet.Problem(
        "Downloading e-book batch {version}: {percent}%",
        {"version": "2026-12", "why": "", "percent": "25"})
    assert down.pending_system_update is None and down.health == fleet.OK
    waiting = fleet.assess(entry("2026-11-1", version="2026-12", state="waiting",
                                 why="a reader is using the kiosk", at="x"), NOW, 60)
    assert waiting.pending_batch.msgid == "E-book batch {version} waits: {why}"
    assert waiting.pending_batch.args["why"] == "a reader is using the kiosk"
    failed = fleet.assess(entry("2026-11-1", version="2026-12", state="failed",
                                why="signature not valid", at="x"), NOW, 60)
    assert failed.health == fleet.FAULT and failed.pending_batch is None
    assert failed.problems[-1] == fleet.Problem("E-book batch {version} failed: {why}", {
        "version": "2026-12", "why": "signature not valid"})
    for quiet in ("idle", "installed"):  # applied: the catalogue version says it
        assert fleet.assess(entry("2026-12-1", version="2026-12", state=quiet, at="x"),
                            NOW, 60).pending_batch is None


def publish_batch(storage, version, libraries):
    """A catalogue release row as publishing writes it (the file itself plays no part in
    what the fleet page shows)."""
    with storage.db.write() as conn:
        release_id = int(conn.value("SELECT COALESCE(MAX(id), 0) + 1 FROM releases"))
        conn.execute("INSERT INTO releases (id, kind, version, size, sha256, file, "
                     "all_libraries, published_at, published_by, withdrawn_at) "
                     "VALUES (?, 'catalogue', ?, 1, ?, ?, 0, '2026-12-01T00:00:00.000Z', "
                     "'wang', NULL)", (release_id, version, "0" * 64,
                                       f"catalogue/{release_id}-{version}.tar"))
        conn.executemany("INSERT INTO release_libraries (release_id, library) VALUES (?, ?)",
                         [(release_id, name) for name in libraries])


def beat(kiosk_id, catalogue, **extra):
    return {"kiosk_id": kiosk_id, "time_utc": "2026-12-06T06:00:00Z", "version": "0.1.0",
            "boot_id": "b", "ils": "ok", "unsent_rows": 0, "catalogue": catalogue, **extra}


@pytest.fixture
def server(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path / "data") as running:
            running.tokens = {
                "liling-lobby-1": add_kiosk(storage, "liling-lobby-1", "醴陵市图书馆"),
                "liling-children": add_kiosk(storage, "liling-children", "醴陵市图书馆",
                                             "少儿阅览室"),
                "liling-ebook": add_kiosk(storage, "liling-ebook", "醴陵市图书馆", "电子阅览室"),
                "village-sanhe": add_kiosk(storage, "village-sanhe", "三合村图书室", "")}
            add_user(storage, "admin", "admin", "醴陵市图书馆", PASSWORD)
            add_user(storage, "sanhe", "staff", "三合村图书室", PASSWORD)
            yield running
    finally:
        storage.close()


def send(server, body):
    return requests.post(f"{server.url}/api/v1/heartbeat", json=body, timeout=10, headers={
        "Authorization": f"Bearer {server.tokens[body['kiosk_id']]}"})


def row_of(page, kiosk_id):
    start = page.index(f'data-kiosk="{kiosk_id}"')
    return page[start:page.index("</tr>", start)]


def fill_fleet(server):
    publish_batch(server.storage, "2026-11", ["醴陵市图书馆", "三合村图书室"])
    publish_batch(server.storage, "2026-12", ["醴陵市图书馆"])
    at = "2026-12-06T01:10:00Z"
    assert send(server, beat("liling-lobby-1", "2026-12-1")).status_code == 200
    assert send(server, beat("liling-children", "2026-11-1", delivery={"catalogue": {
        "version": "2026-12", "state": "downloading", "done_bytes": 45 * 2**20,
        "total_bytes": 60 * 2**20, "why": None, "at": at}})).status_code == 200
    assert send(server, beat("liling-ebook", "2026-11-1", delivery={"catalogue": {
        "version": "2026-12", "state": "failed", "done_bytes": None, "total_bytes": None,
        "why": "签名无效 / the signature is not valid", "at": at}})).status_code == 200
    # An older kiosk: no delivery field at all; the village has only 2026-11 published.
    assert send(server, beat("village-sanhe", "2026-11-2")).status_code == 200


def test_the_fleet_shows_catalogues_behind_and_batches_under_way(server):
    fill_fleet(server)
    bad = send(server, beat("liling-lobby-1", "2026-12-1", delivery={"catalogue": {
        "state": "exploded", "at": "2026-12-06T01:10:00Z"}}))
    assert bad.status_code == 422
    session = signed_in(server, "admin")
    page = session.get(f"{server.url}/fleet", timeout=10).text
    tile = page[page.index('id="behind-tile"'):]
    assert "落后于最新电子书批次" in tile and tile.index(">2</div>") < tile.index("</div></div>")
    lobby = row_of(page, "liling-lobby-1")
    assert "2026-12-1" in lobby and "已是最新" in lobby and "落后" not in lobby
    children = row_of(page, "liling-children")
    assert "落后：最新批次为 2026-12" in children
    assert "正在下载电子书批次 2026-12：75%" in children
    ebook = row_of(page, "liling-ebook")
    assert "电子书批次 2026-12 失败：签名无效" in ebook
    assert 'class="fault" data-kiosk="liling-ebook"' in page
    assert "已是最新" in row_of(page, "village-sanhe")  # its library's newest is 2026-11
    session.get(f"{server.url}/lang/en", timeout=10)
    page = session.get(f"{server.url}/fleet", timeout=10).text
    assert "Behind the newest e-book batch" in page
    assert "Downloading e-book batch 2026-12: 75%" in row_of(page, "liling-children")
    assert "Behind: the newest batch is 2026-12" in row_of(page, "liling-children")
    # A staff account sees its own library's kiosks only.
    village = signed_in(server, "sanhe").get(f"{server.url}/fleet", timeout=10).text
    assert "village-sanhe" in village and "liling-children" not in village
