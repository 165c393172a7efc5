"""The kiosk's pull against the real central server (H1's app under uvicorn on a loopback port,
SQLite): a real signed RAUC bundle published there is found as the library's current release,
downloaded in two nights (the window closes mid-file; the next night resumes with Range and
If-Range), verified, still signed for the kiosk's keyring, and the heartbeat's delivery field
is accepted and kept by the server."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from central.releases import ReleaseKind, Releases
from central.storage import Storage
from kiosk.delivery.download import complete_file
from kiosk.delivery.status import DeliveryState
from kiosk.update.pull import PullOutcome, download_folder
from kiosk.upload.heartbeat import heartbeat_body
from kiosk.upload.sender import Central, read_token
from kiosk.upload.state import UploadState
from tests.central_bundles import kiosk_checks, make_bundle, make_update_key, needs_rauc
from tests.central_server import add_kiosk, database_url, serve
from tests.test_update_pull import NIGHT, Kiosk, Night, paths, pull, system_status  # noqa: F401

pytestmark = needs_rauc


@pytest.fixture(scope="module")
def update_key(tmp_path_factory):
    return make_update_key(tmp_path_factory.mktemp("update-key"))


@pytest.fixture
def central(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path / "central") as running:
            running.storage = storage
            running.token = add_kiosk(storage, "liling-lobby-1", "醴陵市图书馆")
            running.releases = Releases(storage.db, running.config.releases_path)
            yield running
    finally:
        storage.close()


def kiosk_config(tmp_path, central, extra=""):
    from kiosk import config as config_module

    data = tmp_path / "kiosk-data"
    data.mkdir()
    token = data / "central.token"
    token.write_text(central.token + "\n")
    token.chmod(0o600)
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\nid = "liling-lobby-1"\ndata_dir = "{data}"\n'
                    f'[central]\nurl = "{central.url}"\nretries = 1\nbackoff_s = 0.0\n{extra}')
    return config_module.load(path)


def test_a_kiosk_pulls_a_release_from_the_real_central_server_over_two_nights(
        tmp_path, update_key, central, paths):  # noqa: F811
    bundle = make_bundle(update_key, tmp_path, "0.3.0", payload=os.urandom(800_000))
    with open(bundle, "rb") as source:
        staged = central.releases.stage_copy(source, 1 << 30)
    published = central.releases.publish(staged, ReleaseKind.SYSTEM, ["醴陵市图书馆"], False,
                                         "wang")
    # 100 kB/s: the window (until 05:00) closes after a few chunks of the first night.
    config = kiosk_config(tmp_path, central, "[updates]\nmax_rate_kbps = 800\n")
    kiosk = Kiosk()  # slot B runs 0.2.0
    first = pull(config, kiosk, paths, Night(NIGHT.replace(hour=4, minute=59, second=58)))
    assert first.outcome is PullOutcome.PAUSED, first.message
    part = system_status(config)
    assert part.state is DeliveryState.DOWNLOADING and 0 < part.done_bytes < published.size

    second = pull(config, kiosk, paths, Night(NIGHT + timedelta(days=1)))
    assert second.outcome is PullOutcome.DOWNLOADED, second.message
    fetched = complete_file(download_folder(config.data_dir))
    assert fetched.read_bytes() == bundle.read_bytes()
    assert kiosk_checks(fetched, update_key).returncode == 0  # still signed for the kiosk

    body = heartbeat_body(config, UploadState(), 0, runner=kiosk, update_paths=paths)
    with Central(central.url, read_token(config.central_token_path), timeout=(5, 30)) as api:
        api.post("/api/v1/heartbeat", body)
    [entry] = central.storage.fleet(["liling-lobby-1"])
    kept = entry.heartbeat["delivery"]["system"]
    assert (kept["version"], kept["state"], kept["done_bytes"], kept["total_bytes"]) == (
        "0.3.0", "downloaded", published.size, published.size)

    third = pull(config, kiosk, paths, Night(NIGHT + timedelta(days=2)))  # nothing new
    assert third.outcome is PullOutcome.DOWNLOADED  # kept, verified, not fetched again
