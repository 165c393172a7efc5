"""E-book batches over HTTP against the real server on a loopback port, on SQLite and
PostgreSQL: the newest batch for the kiosk's library, every live one oldest first (for a kiosk
that missed some), the batch's file resumed with Range, byte for byte the signed .tar; and the
E-book batches page's upload and withdraw, by an administrator and by a library's staff."""

import hashlib

import pytest
import requests

from central import audit
from central.releases import ReleaseKind, Releases
from central.storage import Storage
from content.build import build_batch
from content.sample import make_sample_source
from content.signing import keygen
from tests.central_server import BACKENDS, PASSWORD, add_kiosk, add_user, database_url, serve
from tests.test_central_pages import csrf_of, signed_in

LILING, SANHE = "醴陵市图书馆", "三合村图书室"


@pytest.fixture(scope="module")
def tars(tmp_path_factory):
    """Three signed batches of two titles: 2026-11, 2026-12, 2027-01."""
    folder = tmp_path_factory.mktemp("batches")
    keygen(folder / "signing.key", folder / "signing.pub")
    source = make_sample_source(folder / "source", count=2)
    for name in ("2026-11", "2026-12", "2027-01"):
        build_batch(source, folder / f"{name}.tar", folder / "signing.key", name)
    return folder


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    storage = Storage.open(database_url(request.param, tmp_path))
    try:
        with serve(storage, tmp_path / "data") as running:
            running.tokens = {"liling": add_kiosk(storage, "liling-lobby-1", LILING),
                              "sanhe": add_kiosk(storage, "village-sanhe", SANHE)}
            running.releases = Releases(storage.db, running.config.releases_path)
            add_user(storage, "admin", "admin", LILING, PASSWORD)
            add_user(storage, "sanhe", "staff", SANHE, PASSWORD)
            yield running
    finally:
        storage.close()


def publish(server, tar, libraries=()):
    with open(tar, "rb") as source:
        staged = server.releases.stage_copy(source, 1 << 30)
    return server.releases.publish(staged, ReleaseKind.CATALOGUE, libraries, not libraries,
                                   "wang")


def get(server, path, kiosk="liling", **headers):
    return requests.get(f"{server.url}{path}", timeout=30, headers={
        "Authorization": f"Bearer {server.tokens[kiosk]}", **headers})


def test_the_newest_batch_and_every_live_one_oldest_first(server, tars):
    assert get(server, "/api/v1/batches/latest").status_code == 204
    assert get(server, "/api/v1/batches").json() == {"batches": []}
    first = publish(server, tars / "2026-11.tar")
    second = publish(server, tars / "2026-12.tar", [LILING])
    third = publish(server, tars / "2027-01.tar", [LILING])
    latest = get(server, "/api/v1/batches/latest")
    assert latest.status_code == 200
    assert latest.json() == {
        "id": third.id, "batch": "2027-01", "size": third.size, "sha256": third.sha256,
        "url": f"/api/v1/releases/{third.id}/file", "published_at": third.published_at,
        "titles": 2}
    assert [b["batch"] for b in get(server, "/api/v1/batches").json()["batches"]] == [
        "2026-11", "2026-12", "2027-01"]
    # The village's kiosks see the batch for all libraries only, and not the others' files.
    assert get(server, "/api/v1/batches/latest", "sanhe").json()["id"] == first.id
    assert [b["id"] for b in get(server, "/api/v1/batches", "sanhe").json()["batches"]] == [
        first.id]
    assert get(server, f"/api/v1/releases/{second.id}/file", "sanhe").status_code == 404
    # Withdrawn: gone from both answers; the one before is the newest again.
    server.releases.withdraw(third.id, audit.Change("admin"))
    assert get(server, "/api/v1/batches/latest").json()["batch"] == "2026-12"
    assert [b["id"] for b in get(server, "/api/v1/batches").json()["batches"]] == [
        first.id, second.id]
    # A system update is not a batch, and no token is no answer.
    assert requests.get(f"{server.url}/api/v1/batches", timeout=30).status_code == 401
    assert get(server, "/api/v1/updates/latest").status_code == 204


def test_the_batch_file_resumes_with_range_and_is_the_signed_tar(server, tars):
    published = publish(server, tars / "2026-12.tar", [SANHE])
    whole = (tars / "2026-12.tar").read_bytes()
    url = get(server, "/api/v1/batches/latest", "sanhe").json()["url"]
    head = get(server, url, "sanhe", Range="bytes=0-999")
    assert head.status_code == 206 and head.content == whole[:1000]
    rest = get(server, url, "sanhe", Range="bytes=1000-", **{"If-Range": head.headers["ETag"]})
    assert rest.status_code == 206
    assert rest.headers["Content-Range"] == f"bytes 1000-{len(whole) - 1}/{len(whole)}"
    assert hashlib.sha256(head.content + rest.content).hexdigest() == published.sha256
    assert head.headers["ETag"] == f'"{published.sha256}"'


# The E-book batches page --------------------------------------------------------------------
def page_session(server, name):
    session = signed_in(server, name)
    page = session.get(f"{server.url}/batches", timeout=10)
    session.headers["X-CSRF-Token"] = csrf_of(page.text)
    return session, page


def upload(server, session, tar, **ask):
    """The page script's requests: start, the bytes, publish; the publish answer."""
    data = tar.read_bytes()
    started = session.post(f"{server.url}/releases/uploads", timeout=10, json={
        "kind": "catalogue", "name": tar.name, "size": len(data), "modified": 1})
    assert started.status_code == 200, started.text
    upload_id, offset = started.json()["id"], started.json()["offset"]
    if offset < len(data):  # after a refused publish the upload is still whole
        session.put(f"{server.url}/releases/uploads/{upload_id}", params={"offset": offset},
                    data=data[offset:], timeout=10).raise_for_status()
    return session.post(f"{server.url}/releases/uploads/{upload_id}/publish", timeout=30,
                        json={"kind": "catalogue", **ask})


def test_staff_publish_and_withdraw_their_own_librarys_batches(server, tars):
    admin, page = page_session(server, "admin")
    assert page.status_code == 200 and "电子书批次" in page.text
    assert page.text.count("本馆尚未发布任何批次") == 2  # both libraries, nothing yet
    done = upload(server, admin, tars / "2026-11.tar", all_libraries=True)
    assert done.status_code == 200 and done.json()["next"].startswith("/batches?published=")
    staff, page = page_session(server, "sanhe")
    assert page.status_code == 200 and LILING not in page.text  # their library only
    assert 'href="/releases"' not in page.text and 'id="all-libraries"' not in page.text
    # Staff may not publish for all libraries, another library, or a system update.
    wider = upload(server, staff, tars / "2026-12.tar", all_libraries=True)
    assert wider.status_code == 403 and wider.json()["detail"] == "图书馆员只能为本馆发布批次。"
    assert upload(server, staff, tars / "2026-12.tar", libraries=[LILING]).status_code == 403
    assert staff.post(f"{server.url}/releases/uploads", timeout=10, json={
        "kind": "system", "name": "a.raucb", "size": 1, "modified": 1}).status_code == 403
    mine = upload(server, staff, tars / "2026-12.tar", libraries=[SANHE])
    assert mine.status_code == 200, mine.text
    listing = staff.get(f"{server.url}{mine.json()['next']}", timeout=10).text
    assert "批次 2026-12 已发布" in listing and "书目数" in listing
    assert get(server, "/api/v1/batches/latest", "sanhe").json()["batch"] == "2026-12"
    # A batch out of order is refused in the reader's language, and the upload is gone.
    older = upload(server, staff, tars / "2026-11.tar", libraries=[SANHE])
    assert older.status_code == 400 and "自助机按名称顺序应用批次" in older.json()["detail"]
    assert list(server.releases.incoming.iterdir()) == []
    # Staff withdraw their own library's batch, not the one for every library.
    first, second = (r.id for r in sorted(server.releases.all(), key=lambda r: r.id))
    token = {"csrf": staff.headers["X-CSRF-Token"]}
    staff.post(f"{server.url}/releases/{first}/withdraw", data=token, timeout=10)
    assert server.releases.get(first).withdrawn_at is None
    answer = staff.post(f"{server.url}/releases/{second}/withdraw", data=token, timeout=10)
    assert "批次 2026-12 已撤回" in answer.text and answer.url.endswith(f"withdrawn={second}")
    assert server.releases.get(second).withdrawn_at is not None
    assert get(server, "/api/v1/batches/latest", "sanhe").json()["batch"] == "2026-11"
