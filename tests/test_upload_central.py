"""The uploader against the real central server (central/, SQLite) on 127.0.0.1: every row
counted once, a crash before `mark_sent` answered "duplicate", heartbeat and catalogue taken,
and the server's refusals (a token of another kiosk) kept as the last error."""

import pytest

from kiosk.journal import Journal
from kiosk.upload import state as state_file
from kiosk.upload.run import upload
from tests.central_server import add_kiosk, batches, sqlite_central, totals
from tests.test_upload_run import journal_of, make_config, sent_upto
from tests.test_upload_sender import Clock


class Crash(BaseException):
    """Stands for the process dying: nothing in the uploader catches it."""


@pytest.fixture
def central(tmp_path):
    with sqlite_central(tmp_path / "central") as server:
        yield server


def kiosk_config(tmp_path, central, extra=""):
    token = add_kiosk(central.storage, "kiosk-1")
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "central.token").write_text(token + "\n")
    (tmp_path / "data" / "central.token").chmod(0o600)
    return make_config(tmp_path, central.url, extra, timeout_s=10.0)


def test_upload_crash_and_resend_against_the_real_server(tmp_path, central, monkeypatch):
    config = kiosk_config(tmp_path, central, "batch_rows = 200\n")
    written = journal_of(config, days=2, per_day=300)
    clock = Clock()
    real_mark_sent = Journal.mark_sent
    calls = []

    def crash_on_second(journal, last_seq):
        calls.append(last_seq)
        if len(calls) == 2:
            raise Crash()
        real_mark_sent(journal, last_seq)

    monkeypatch.setattr(Journal, "mark_sent", crash_on_second)
    with pytest.raises(Crash):
        upload(config, sleep=clock.sleep, clock=clock)
    monkeypatch.setattr(Journal, "mark_sent", real_mark_sent)
    assert sent_upto(config) == (200, 400)
    pending = state_file.load(state_file.state_path(config.journal_path)).pending
    assert batches(central.storage, "kiosk-1")[1] == (pending.batch_id, 201, 400)

    report = upload(config, sleep=clock.sleep, clock=clock)
    assert report.error is None, report.error
    assert [b.duplicate for b in report.batches] == [True, False]
    assert totals(central.storage, "kiosk-1") == dict(written)
    assert sent_upto(config) == (600, 0)
    assert [b[1:] for b in batches(central.storage, "kiosk-1")] == [
        (1, 200), (201, 400), (401, 600)]
    (fleet,) = central.storage.fleet(["kiosk-1"])
    assert fleet.heartbeat["unsent_rows"] == 0 and fleet.heartbeat["last_error"] is None


def test_the_real_server_takes_the_heartbeat_and_catalogue(tmp_path, central):
    from content.store import CatalogueStore
    from tests.content_batches import Batches

    config = kiosk_config(tmp_path, central, '[devices]\nscanner = "sim:scanner"\n')
    batches = Batches(tmp_path / "batches")
    CatalogueStore(config.catalogue_dir).apply(batches.first, batches.public)
    clock = Clock()
    report = upload(config, sleep=clock.sleep, clock=clock)
    assert report.error is None and report.heartbeat_sent
    assert report.catalogue_sent == "2026-11-1"
    (fleet,) = central.storage.fleet(["kiosk-1"])
    assert fleet.heartbeat["devices"]["scanner"]["state"] == "ok"
    assert fleet.heartbeat["catalogue"] == "2026-11-1"


def test_a_token_of_another_kiosk_is_refused_and_kept_as_the_error(tmp_path, central):
    config = kiosk_config(tmp_path, central)
    journal_of(config, days=1, per_day=20)
    other = add_kiosk(central.storage, "kiosk-2")
    config.central_token_path.write_text(other + "\n")
    clock = Clock()
    report = upload(config, sleep=clock.sleep, clock=clock)
    assert "HTTP 403" in report.error and "kiosk-2" in report.error
    assert clock.waits == []  # not retried
    assert sent_upto(config) == (0, 20) and totals(central.storage, "kiosk-1") == {}
    saved = state_file.load(state_file.state_path(config.journal_path))
    assert saved.last_error == report.error
