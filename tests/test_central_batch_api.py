"""E-book batches over HTTP against the real server on a loopback port, on SQLite and
PostgreSQL: the newest batch for the kiosk's library, every live one oldest first (for a kiosk
that missed some), and the batch's file resumed with Range, byte for byte the signed .tar."""

import hashlib

import pytest
import requests

from central.releases import ReleaseKind, Releases
from central.storage import Storage
from content.build import build_batch
from content.sample import make_sample_source
from content.signing import keygen
from tests.central_server import BACKENDS, add_kiosk, database_url, serve

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
    server.releases.withdraw(third.id)
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
