"""Releases over HTTP against the real server on a loopback port, on SQLite and PostgreSQL:
what a kiosk is told is current, the file with Range, If-Range, ETag and 416 (a resumed
download is the same bytes, and its signature checks with the kiosk's keyring), withdrawn
and other libraries' releases, the heartbeat's delivery field on the fleet page, and the
resumable upload the System updates page makes (a connection cut mid-chunk included)."""

import hashlib
import os
import re
import socket
import time

import pytest
import requests

from central import audit
from central.releases import ReleaseKind, Releases
from central.storage import Storage
from tests.central_bundles import kiosk_checks, make_bundle, make_update_key, needs_rauc
from tests.central_server import BACKENDS, PASSWORD, add_kiosk, add_user, database_url, serve
from tests.test_central_pages import csrf_of, signed_in

pytestmark = needs_rauc



@pytest.fixture(scope="module")
def update_key(tmp_path_factory):
    return make_update_key(tmp_path_factory.mktemp("update-key"))


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    storage = Storage.open(database_url(request.param, tmp_path))
    try:
        with serve(storage, tmp_path / "data") as running:
            running.tokens = {"liling": add_kiosk(storage, "liling-lobby-1", "醴陵市图书馆"),
                              "sanhe": add_kiosk(storage, "village-sanhe", "三合村图书室")}
            running.releases = Releases(storage.db, running.config.releases_path)
            add_user(storage, "admin", "admin", "醴陵市图书馆", PASSWORD)
            add_user(storage, "liling", "staff", "醴陵市图书馆", PASSWORD)
            yield running
    finally:
        storage.close()


def publish(server, bundle, libraries=(), by="wang"):
    with open(bundle, "rb") as source:
        staged = server.releases.stage_copy(source, 1 << 30)
    return server.releases.publish(staged, ReleaseKind.SYSTEM, libraries, not libraries, by)


def get(server, path, kiosk="liling", **headers):
    return requests.get(f"{server.url}{path}", timeout=30, headers={
        "Authorization": f"Bearer {server.tokens[kiosk]}", **headers})


def test_the_current_release_is_the_newest_for_the_kiosks_library(server, update_key,
                                                                   tmp_path):
    assert get(server, "/api/v1/updates/latest").status_code == 204
    older = publish(server, make_bundle(update_key, tmp_path, "0.1.9"))
    newer = publish(server, make_bundle(update_key, tmp_path, "0.2.0"), ["醴陵市图书馆"])
    answer = get(server, "/api/v1/updates/latest")
    assert answer.status_code == 200
    assert answer.json() == {
        "id": newer.id, "version": "0.2.0", "size": newer.size,
        "sha256": newer.sha256, "url": f"/api/v1/releases/{newer.id}/file",
        "published_at": newer.published_at}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", newer.published_at)
    # The village's kiosks see only the release for all libraries, and not the other file.
    assert get(server, "/api/v1/updates/latest", "sanhe").json()["id"] == older.id
    assert get(server, newer.url, "sanhe").status_code == 404
    # Withdrawn: gone for kiosks, and the one before is current again.
    server.releases.withdraw(newer.id, audit.Change("admin"))
    assert get(server, newer.url).status_code == 404
    assert get(server, "/api/v1/updates/latest").json()["id"] == older.id
    assert requests.get(f"{server.url}/api/v1/updates/latest",
                        timeout=10).status_code == 401
    assert get(server, "/api/v1/releases/999/file").status_code == 404


def test_the_file_resumes_with_range_and_is_what_the_kiosk_can_verify(server, update_key,
                                                                       tmp_path):
    bundle = make_bundle(update_key, tmp_path, "0.2.0", payload=bytes(range(256)) * 64)
    release = publish(server, bundle)
    data = bundle.read_bytes()
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    whole = get(server, release.url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["etag"] == etag and whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(data)
    # A download cut after 5,000 bytes goes on from there.
    rest = get(server, release.url, Range="bytes=5000-", **{"If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes 5000-{len(data) - 1}/{len(data)}"
    resumed = tmp_path / "downloaded.raucb"
    resumed.write_bytes(data[:5000] + rest.content)
    assert hashlib.sha256(resumed.read_bytes()).hexdigest() == release.sha256
    checked = kiosk_checks(resumed, update_key)
    assert checked.returncode == 0, checked.stderr
    middle = get(server, release.url, Range="bytes=10-19")
    assert middle.status_code == 206 and middle.content == data[10:20]
    assert get(server, release.url, Range="bytes=-16").content == data[-16:]
    past = get(server, release.url, Range=f"bytes={len(data)}-")
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(data)}"
    # The kiosk's part is of another file: the whole file comes back.
    stale = get(server, release.url, Range="bytes=5000-", **{"If-Range": '"' + "0" * 64 + '"'})
    assert stale.status_code == 200 and stale.content == data
    head = requests.head(f"{server.url}{release.url}", timeout=10, headers={
        "Authorization": f"Bearer {server.tokens['liling']}", "Range": "bytes=100-"})
    assert head.status_code == 206 and head.headers["content-length"] == str(len(data) - 100)


def beat(kiosk_id, **extra):
    return {"kiosk_id": kiosk_id, "time_utc": "2026-12-06T06:00:00Z", "version": "0.1.0",
            "boot_id": "b", "ils": "ok", "unsent_rows": 0, "system_version": "0.1.0",
            "slot": "A", **extra}


def test_heartbeats_carry_the_delivery_to_the_fleet_page(server):
    def send(kiosk, token, body):
        return requests.post(f"{server.url}/api/v1/heartbeat", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {server.tokens[token]}"})
    assert send("liling-lobby-1", "liling", beat("liling-lobby-1", delivery={"system": {
        "version": "0.2.0", "state": "downloading", "done_bytes": 3 * 2**20,
        "total_bytes": 12 * 2**20, "why": None, "at": "2026-12-06T01:10:00Z"},
        "catalogue": {"state": "idle", "at": "2026-12-06T01:10:00Z"}})).status_code == 200
    assert send("village-sanhe", "sanhe", beat("village-sanhe", delivery={"system": {
        "version": "0.2.0", "state": "failed", "done_bytes": None, "total_bytes": None,
        "why": "the file's sha256 differs from the server's",
        "at": "2026-12-06T01:10:00Z"}})).status_code == 200
    bad = send("village-sanhe", "sanhe", beat("village-sanhe", delivery={"system": {
        "state": "exploded", "at": "2026-12-06T01:10:00Z"}}))
    assert bad.status_code == 422
    too_long = send("village-sanhe", "sanhe", beat("village-sanhe", delivery={"system": {
        "state": "failed", "why": "x" * 501, "at": "2026-12-06T01:10:00Z"}}))
    assert too_long.status_code == 422
    session = signed_in(server, "admin")
    page = session.get(f"{server.url}/fleet", timeout=10).text
    assert "正在下载系统更新 0.2.0：25%" in page
    assert 'class="fault" data-kiosk="village-sanhe"' in page
    assert "系统更新 0.2.0 失败：the file&#39;s sha256 differs from the server&#39;s" in page
    session.get(f"{server.url}/lang/en", timeout=10)
    page = session.get(f"{server.url}/fleet", timeout=10).text
    assert "Downloading system update 0.2.0: 25%" in page
    # An older kiosk without the field is still welcome.
    assert send("liling-lobby-1", "liling", beat("liling-lobby-1")).status_code == 200
    assert "Downloading" not in session.get(f"{server.url}/fleet", timeout=10).text


# The System updates page's upload ----------------------------------------------------------
def script_session(server, name="admin"):
    session = signed_in(server, name)
    page = session.get(f"{server.url}/releases", timeout=10)
    session.headers["X-CSRF-Token"] = csrf_of(page.text)
    return session, page


def cut_put(server, session, upload_id, offset, body, send_bytes):
    """A chunk's request whose connection drops after the server wrote `send_bytes` of its
    body (bytes still in flight when a connection drops are lost; the page goes on from what
    the server wrote)."""
    port = int(server.url.rsplit(":", 1)[1])
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    head = (f"PUT /releases/uploads/{upload_id}?offset={offset} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
            f"X-CSRF-Token: {session.headers['X-CSRF-Token']}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode() + body[:send_bytes])
        server_offset(server, session, upload_id, offset + send_bytes)


def server_offset(server, session, upload_id, at_least):
    """What the server has, once it has at least `at_least` bytes (or after 10 s)."""
    for _ in range(500):
        offset = session.get(f"{server.url}/releases/uploads/{upload_id}",
                             timeout=10).json()["offset"]
        if offset >= at_least:
            return offset
        time.sleep(0.02)  # the server writes on its own thread
    return offset


def test_an_upload_cut_mid_chunk_goes_on_and_publishes(server, update_key, tmp_path):
    bundle = make_bundle(update_key, tmp_path, "0.3.0", payload=os.urandom(80000))
    data = bundle.read_bytes()
    session, page = script_session(server)
    assert page.status_code == 200 and "系统更新" in page.text and "尚未发布任何更新" in page.text
    start = {"name": bundle.name, "size": len(data), "modified": 1765000000000}
    started = session.post(f"{server.url}/releases/uploads", json=start, timeout=10).json()
    assert started["offset"] == 0
    upload = started["id"]
    first = session.put(f"{server.url}/releases/uploads/{upload}", params={"offset": 0},
                        data=data[:20000], timeout=10)
    assert first.json()["offset"] == 20000
    cut_put(server, session, upload, 20000, data[20000:60000], send_bytes=15000)
    assert server_offset(server, session, upload, 35000) == 35000
    # The page, reloaded, picks the same file: the server says where to go on from.
    again = session.post(f"{server.url}/releases/uploads", json=start, timeout=10).json()
    assert (again["id"], again["offset"]) == (upload, 35000)
    behind = session.put(f"{server.url}/releases/uploads/{upload}", params={"offset": 20000},
                         data=data[20000:60000], timeout=10)
    assert behind.status_code == 409 and behind.json()["offset"] == 35000
    rest = session.put(f"{server.url}/releases/uploads/{upload}", params={"offset": 35000},
                       data=data[35000:], timeout=10)
    assert rest.json()["offset"] == len(data)
    done = session.post(f"{server.url}/releases/uploads/{upload}/publish", timeout=30,
                        json={"kind": "system", "libraries": ["醴陵市图书馆"]})
    assert done.status_code == 200, done.text
    release = server.releases.get(done.json()["release"]["id"])
    assert (release.version, release.published_by, release.libraries) == (
        "0.3.0", "admin", ("醴陵市图书馆",))
    assert release.sha256 == hashlib.sha256(data).hexdigest()
    assert server.releases.path_of(release).read_bytes() == data
    listing = session.get(f"{server.url}{done.json()['next']}", timeout=10).text
    assert f"更新 {release.id} 已发布" in listing and release.sha256[:12] in listing
    assert get(server, "/api/v1/updates/latest").json()["version"] == "0.3.0"
    # Withdrawn from the page, with the form's token.
    answer = session.post(f"{server.url}/releases/{release.id}/withdraw", timeout=10,
                          data={"csrf": session.headers["X-CSRF-Token"]})
    assert "已撤回" in answer.text
    assert server.releases.get(release.id).withdrawn_at is not None
    assert get(server, "/api/v1/updates/latest").status_code == 204


def test_uploads_refuse_what_is_not_a_bundle_and_who_may_not(server, tmp_path):
    session, _page = script_session(server)
    junk = b"<html>not a bundle</html>" * 100
    started = session.post(f"{server.url}/releases/uploads", timeout=10, json={
        "name": "index.raucb", "size": len(junk), "modified": 1}).json()
    session.put(f"{server.url}/releases/uploads/{started['id']}", params={"offset": 0},
                data=junk, timeout=10)
    early = session.post(f"{server.url}/releases/uploads/{started['id']}/publish", timeout=10,
                         json={"kind": "system", "libraries": []})
    assert early.status_code == 400 and early.json()["detail"] == "请选择图书馆，或选择全部图书馆。"
    refused = session.post(f"{server.url}/releases/uploads/{started['id']}/publish",
                           timeout=30, json={"kind": "system", "all_libraries": True})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "该文件不是更新包（.raucb）。"
    assert server.releases.all() == []
    assert list(server.releases.incoming.iterdir()) == []
    too_big = session.post(f"{server.url}/releases/uploads", timeout=10, json={
        "name": "huge.raucb", "size": (4096 << 20) + 1, "modified": 1})
    assert too_big.status_code == 400 and "4096 MB" in too_big.json()["detail"]
    # No form token, or a staff account: refused; the staff get no page either.
    signed_out = requests.post(f"{server.url}/releases/uploads", timeout=10,
                               json={"name": "a", "size": 1, "modified": 1})
    assert signed_out.status_code == 401 and "重新登录" in signed_out.json()["detail"]
    forged = requests.post(f"{server.url}/releases/uploads", timeout=10,
                           cookies=session.cookies, headers={"X-CSRF-Token": "guess"},
                           json={"name": "a", "size": 1, "modified": 1})
    assert forged.status_code == 403 and "页面已过期" in forged.json()["detail"]
    staff, page = script_session(server, "liling")
    assert page.status_code == 403 and "只有管理员可以发布系统更新" in page.text
    assert 'href="/releases"' not in page.text
    assert staff.post(f"{server.url}/releases/uploads", timeout=10, json={
        "name": "a", "size": 1, "modified": 1}).status_code == 403
