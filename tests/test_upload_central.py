"""The uploader against the real central server (central/, SQLite) on 127.0.0.1: every row
counted once, a crash before `mark_sent` answered "duplicate", heartbeat and catalogue taken,
and the server's refusals (a token of another kiosk) kept as the last error."""

import pytest

from central.storage import Storage
from kiosk.journal import Journal
from kiosk.upload import state as state_file
from kiosk.upload.run import upload
from tests.central_server import (
    BACKENDS,
    add_kiosk,
    batches,
    database_url,
    serve,
    sqlite_central,
    totals,
)
from tests.test_upload_run import journal_of, make_config, sent_upto
from tests.test_upload_sender import Clock
from tests.upload_journal import START


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


@pytest.fixture(params=BACKENDS)
def any_central(request, tmp_path):
    """The real server on either database, for what its checks decide."""
    storage = Storage.open(database_url(request.param, tmp_path))
    try:
        with serve(storage, tmp_path / "central") as running:
            yield running
    finally:
        storage.close()


def cells(storage, kiosk_id="kiosk-1"):
    storage.fold()  # the totals as the figures read them
    with storage.db.read() as conn:
        return {(e, o): int(n) for e, o, n in conn.all(
            "SELECT event, outcome, SUM(n) FROM counts WHERE kiosk_id = ? "
            "GROUP BY event, outcome", (kiosk_id,))}


def test_offline_loans_and_returns_reach_the_server_as_themselves(tmp_path, any_central):
    """Contract 2 from a real journal: replays under their own event, refused download links
    counted as the rows hold them, and the server finds the batch believable."""
    from datetime import datetime, timedelta, timezone

    from tests.test_upload_counts import replay_row
    from tests.upload_journal import append_at

    config = kiosk_config(tmp_path, any_central)
    day = datetime.now(timezone.utc).replace(hour=2, minute=0) - timedelta(days=3)
    with Journal.open(config.journal_path, config.patron_key_path) as journal:
        for minute, kind in enumerate(("checkout",) * 5 + ("checkin",) * 2):
            append_at(journal, day + timedelta(minutes=minute), kind, "offline",
                      item=f"3352000012345{minute}", detail={"offline": True})
        for minute in range(5):
            replay_row(journal, day + timedelta(hours=3, minutes=minute), "checkout", "sent",
                       item=f"3352000012345{minute}")
        replay_row(journal, day + timedelta(hours=3, minutes=6), "checkin", "sent")
        replay_row(journal, day + timedelta(hours=3, minutes=7), "checkin", "refused")
        append_at(journal, day + timedelta(hours=4), "ebook_download", "bad signature",
                  detail={"count": 1200})
        append_at(journal, day + timedelta(hours=4, minutes=1), "ebook_download", "ok",
                  item="000123")
    report = upload(config, sleep=Clock().sleep, clock=Clock())
    assert report.error is None, report.error
    assert cells(any_central.storage) == {
        ("checkout", "offline"): 5, ("checkin", "offline"): 2, ("checkout", "replayed"): 5,
        ("checkin", "replayed"): 1, ("checkin", "replay_refused"): 1,
        ("ebook_download", "bad signature"): 1200, ("ebook_download", "ok"): 1}
    assert sent_upto(config) == (16, 0)


def test_rows_dated_outside_the_servers_window_are_refused_and_shown(tmp_path, any_central):
    """A kiosk whose rows are dated over three years before the server's clock: the 422's
    message is the run's error, for the heartbeat and `kiosk doctor`, and nothing is lost."""
    from datetime import timedelta

    config = kiosk_config(tmp_path, any_central)
    journal_of(config, days=1, per_day=20)
    any_central.clock[0] = START + timedelta(days=3 * 365 + 10)
    clock = Clock()
    report = upload(config, sleep=clock.sleep, clock=clock)
    assert report.error.endswith(
        "HTTP 422: counts.0.date: 2026-08-26 is more than 3 years (1096 days) before the "
        "server's date (2029-09-04 UTC); is the kiosk's clock right?"), report.error
    assert clock.waits == []  # a person must look: not retried
    assert sent_upto(config) == (0, 20) and cells(any_central.storage) == {}
