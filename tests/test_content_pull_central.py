"""`kiosk content pull` against the real central server (under uvicorn on a loopback port,
SQLite) through a proxy that throttles and cuts the connection mid-file: a new kiosk applies
every published batch in order (a missed month too), resuming the cut file in the next run;
a batch waits while a patron uses the kiosk; a refused batch is not fetched again; an older
published batch and an unreachable server leave the catalogue as it is, and say so."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone

import pytest

from central.releases import ReleaseKind, Releases
from central.storage import Storage
from content.signing import keygen
from content.store import CatalogueStore
from kiosk import config as config_module
from kiosk import status
from kiosk.content_pull import CataloguePull, CataloguePullOutcome, download_folder
from kiosk.delivery import status as delivery
from kiosk.delivery.releases import ReleaseKind as KioskKind
from kiosk.delivery.status import DeliveryState
from kiosk.update import activity
from kiosk.update.activity import Activity
from kiosk.update.state import UpdatePaths
from kiosk.upload.heartbeat import heartbeat_body
from kiosk.upload.sender import Central, read_token
from kiosk.upload.state import UploadState
from tests.central_server import add_kiosk, database_url, serve
from tests.content_batches import Batches, edit_manifest, tar_of
from tests.http_proxy import HttpProxy
from tests.test_update_pull import NIGHT, Night

LIBRARY = "醴陵市图书馆"


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    """2026-11 (22 titles, about 1 MB as a tar) and 2026-12 (5 added, 1 updated, 2 withdrawn),
    as tars; and 2027-01, signed with a key that is not the library's."""
    made = Batches(tmp_path_factory.mktemp("batches"), count=22)
    made.tars = {"2026-11": tar_of(made.first, made.folder / "2026-11.tar"),
                 "2026-12": tar_of(made.second, made.folder / "2026-12.tar")}
    keygen(made.folder / "other.key", made.folder / "other.pub")
    forged = made.copy(made.second, made.folder / "2027-01")
    edit_manifest(forged, lambda doc: doc.update(batch="2027-01"), made.folder / "other.key")
    made.tars["2027-01"] = tar_of(forged, made.folder / "2027-01.tar")
    return made


@pytest.fixture
def central(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path / "central") as running:
            running.storage = storage
            running.token = add_kiosk(storage, "liling-lobby-1", LIBRARY)
            running.releases = Releases(storage.db, running.config.releases_path)
            yield running
    finally:
        storage.close()


def publish(central, batches, name):
    with open(batches.tars[name], "rb") as source:
        staged = central.releases.stage_copy(source, 1 << 30)
    return central.releases.publish(staged, ReleaseKind.CATALOGUE, [LIBRARY], False, "wang")


def kiosk_config(tmp_path, url, central, batches, retries=1):
    data = tmp_path / "kiosk-data"
    data.mkdir(exist_ok=True)
    token = data / "central.token"
    token.write_text(central.token + "\n")
    token.chmod(0o600)
    shutil.copy(batches.public, data / "content-signing.pub")
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\nid = "liling-lobby-1"\ndata_dir = "{data}"\n'
                    f'[central]\nurl = "{url}"\nretries = {retries}\nbackoff_s = 0.0\n')
    return config_module.load(path)


def pull(config, night=None, activity_path=None):
    night = night or Night()
    return CataloguePull(config, now=night.now, sleep=night.sleep, clock=night.monotonic,
                         activity_path=activity_path or config.data_dir / "no-activity").run()


def catalogue_status(config):
    return delivery.read(config.data_dir, KioskKind.CATALOGUE)


def test_a_new_kiosk_applies_every_batch_in_order_resuming_a_cut_file(tmp_path, central,
                                                                        batches):
    first, second = publish(central, batches, "2026-11"), publish(central, batches, "2026-12")
    with HttpProxy(central.url, bytes_per_s=8_000_000) as proxy:
        config = kiosk_config(tmp_path, proxy.url, central, batches, retries=0)
        proxy.cut_file_after(first.size // 3)  # the cable pulled a third into 2026-11
        cut = pull(config)
        assert cut.outcome is CataloguePullOutcome.FAILED, cut.message
        assert "the next run resumes" in cut.message and "keeps its catalogue" not in cut.message
        kept = catalogue_status(config)
        assert kept.state is DeliveryState.FAILED and kept.version == "2026-11"
        assert 0 < kept.done_bytes < first.size
        shown = status.check_catalogue(config)  # no catalogue yet, and why
        assert shown.ok is None and "the last pull from the central server failed" in (
            shown.advice.english)

        done = pull(config)  # the next hour: resumes, then the month after
        assert done.outcome is CataloguePullOutcome.APPLIED, done.message
        assert [r.batch for r in done.applied] == ["2026-11", "2026-12"]
        files = proxy.files()
        assert [(f.path, f.range, f.cut) for f in files] == [
            (first.url, None, True), (first.url, f"bytes={kept.done_bytes}-", False),
            (second.url, None, False)]

    store = CatalogueStore(config.catalogue_dir)
    assert store.current_batch() == "2026-12" and store.previous_dir().name == "2026-11-1"
    assert list(download_folder(config.data_dir).iterdir()) == []  # the files are deleted
    settled = catalogue_status(config)
    assert (settled.state, settled.version) == (DeliveryState.IDLE, "2026-12")
    assert "5 added, 1 updated, 2 withdrawn" in settled.why
    shown = status.check_catalogue(config)
    assert shown.ok and shown.summary.english == "25 titles licensed today (2026-12-1)"

    body = heartbeat_body(config, UploadState(), 0, update_paths=UpdatePaths(tmp_path / "no"))
    said = body["delivery"]["catalogue"]
    assert (said["version"], said["state"]) == ("2026-12", "idle")
    with Central(central.url, read_token(config.central_token_path), timeout=(5, 30)) as api:
        api.post("/api/v1/heartbeat", body)  # accepted as it is
    [entry] = central.storage.fleet(["liling-lobby-1"])
    assert entry.heartbeat["catalogue"] == "2026-12-1"

    again = pull(kiosk_config(tmp_path, central.url, central, batches))
    assert again.outcome is CataloguePullOutcome.UP_TO_DATE, again.message


def test_a_batch_waits_for_the_patron_and_a_refused_one_is_not_fetched_again(tmp_path, central,
                                                                          batches):
    publish(central, batches, "2026-11")
    publish(central, batches, "2026-12")
    with HttpProxy(central.url) as proxy:
        config = kiosk_config(tmp_path, proxy.url, central, batches)
        store = CatalogueStore(config.catalogue_dir)
        store.apply(batches.tars["2026-11"], batches.public)  # December was missed
        in_use = tmp_path / "activity"
        activity.write(in_use, Activity(True, datetime(2026, 12, 6, 17, 0, tzinfo=timezone.utc)))
        night = Night()
        waiting = pull(config, night, in_use)
        assert waiting.outcome is CataloguePullOutcome.IN_USE, waiting.message
        assert "someone is using the kiosk" in waiting.message
        assert (night.moment - NIGHT).total_seconds() >= 600  # it waited a little first
        assert catalogue_status(config).state is DeliveryState.DOWNLOADED
        assert "downloaded and applied when nobody" in (
            status.check_catalogue(config).summary.english)
        assert store.current_batch() == "2026-11"

        activity.write(in_use, Activity(False, datetime(2026, 12, 6, 17, 5, tzinfo=timezone.utc)))
        applied = pull(config, activity_path=in_use)
        assert applied.outcome is CataloguePullOutcome.APPLIED, applied.message
        assert store.current_batch() == "2026-12"
        assert len(proxy.files()) == 1  # the downloaded file was kept, not fetched again

        forged = publish(central, batches, "2027-01")
        refused = pull(config)
        assert refused.outcome is CataloguePullOutcome.FAILED
        assert "signature does not match" in refused.message and "not downloaded again" in (
            refused.message)
        assert catalogue_status(config).refused_sha256 == forged.sha256
        assert store.current_batch() == "2026-12"
        again = pull(config)
        assert again.outcome is CataloguePullOutcome.REFUSED_BEFORE
        assert len(proxy.files()) == 2  # the refused file is not fetched a second time
        shown = status.check_catalogue(config)
        assert shown.warning and "signature does not match" in shown.summary.english


def test_an_older_batch_or_no_server_leaves_the_catalogue_and_says_why(tmp_path, central,
                                                                       batches):
    publish(central, batches, "2026-11")
    with HttpProxy(central.url) as proxy:
        proxy.hidden.add("/api/v1/batches")  # a server with only the contract's /latest
        config = kiosk_config(tmp_path, proxy.url, central, batches)
        store = CatalogueStore(config.catalogue_dir)
        store.apply(batches.tars["2026-11"], batches.public)
        store.apply(batches.tars["2026-12"], batches.public)  # from a USB stick
        older = pull(config)
        assert older.outcome is CataloguePullOutcome.UP_TO_DATE, older.message
        assert "2026-11 is older than this kiosk's catalogue 2026-12: it is not applied" in (
            older.message)
        assert [r.path for r in proxy.requests] == ["/api/v1/batches", "/api/v1/batches/latest"]
        assert catalogue_status(config).state is DeliveryState.IDLE
        noon = pull(config, Night(NIGHT.replace(hour=12)))
        assert noon.outcome is CataloguePullOutcome.OUTSIDE_WINDOW

    gone = pull(config)  # the proxy is gone: nothing answers
    assert gone.outcome is CataloguePullOutcome.FAILED
    assert "could not be asked for e-book batches" in gone.message
    assert "the kiosk keeps its catalogue (batch 2026-12)" in gone.message
    shown = status.check_catalogue(config)
    assert shown.ok and shown.warning and "could not be asked" in shown.summary.english
    assert "journalctl -u kiosk-pull" in shown.advice.english
    assert store.current_batch() == "2026-12"
