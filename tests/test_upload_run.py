"""Whole uploader runs from a real journal to a real HTTP server on 127.0.0.1 that misbehaves:
nothing lost, nothing counted twice, nothing identifying sent, a crash before `mark_sent` resent
as a duplicate; the catch-up cap, the dry run, the heartbeat, the state file and the CLI."""

import json
import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from kiosk import config as config_module
from kiosk import status
from kiosk.journal import Journal
from kiosk.upload import state as state_file
from kiosk.upload.run import dry_run, upload
from tests.conftest import ROOT
from tests.counting_server import TOKEN, CountingServer
from tests.test_upload_sender import Clock
from tests.upload_journal import CARDS, ITEMS, START, fill


def make_config(tmp_path, url, extra="", timeout_s=0.5):
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    token = data / "central.token"
    if not token.exists():
        token.write_text(TOKEN + "\n")
        token.chmod(0o600)
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\nid = "kiosk-1"\ndata_dir = "{data}"\n'
                    f'[central]\nurl = "{url}"\nconnect_timeout_s = 1.0\ntimeout_s = {timeout_s}\n'
                    f'{extra}', encoding="utf-8")
    return config_module.load(path)


def journal_of(config, days=2, per_day=300, seed=6):
    return fill(config.journal_path, config.patron_key_path, days=days, per_day=per_day,
                start=START, seed=seed, fast=True)


def run(config, clock=None, **kw):
    clock = clock or Clock()
    return upload(config, sleep=clock.sleep, clock=clock, **kw)


def sent_upto(config):
    with Journal.open_existing(config.journal_path) as journal:
        return journal.sent_upto(), journal.unsent_count()


def test_a_flaky_server_gets_every_row_once(tmp_path):
    faults = ["drop", "500", "ok", "429:3", "slow", "503", "drop", "ok", "slow", "401", "500",
              "drop", "drop", "drop", "drop", "drop", "drop", "ok", "slow", "ok"]
    with CountingServer(faults) as server:
        config = make_config(tmp_path, server.url, "batch_rows = 70\nretries = 3\n")
        written = journal_of(config)
        reports = []
        for _ in range(30):  # the timer's runs, until the backlog is gone
            reports.append(run(config))
            if sent_upto(config)[1] == 0:
                break
    assert sent_upto(config) == (600, 0)
    assert server.totals == written  # per event: the server's totals are the journal's
    assert sum(server.totals.values()) == 600
    # Every fault happened, and each one ended a run or was retried through.
    assert server.script == [] and {"401", "slow", "drop", "429:3"} <= set(server.answers)
    assert "duplicate" in server.answers  # slow replies the server had counted
    errors = [r.error for r in reports if r.error]
    assert any("HTTP 401" in e for e in errors)
    assert any("Remote end closed" in e for e in errors)  # retries ran out: the next run went on
    assert reports[-1].error is None and reports[-1].heartbeat_sent


def test_no_body_sent_identifies_a_patron(tmp_path):
    with CountingServer() as server:
        config = make_config(tmp_path, server.url)
        journal_of(config, days=1, per_day=200)
        assert run(config).error is None
    with Journal.open_existing(config.journal_path) as journal:
        hashes = {r.patron_hash for r in journal.rows() if r.patron_hash}
    sent = b"".join(raw for _path, raw in server.bodies)
    assert {path for path, _raw in server.bodies} == {"/api/v1/counts", "/api/v1/heartbeat"}
    assert len(hashes) == len(CARDS)
    for secret in [*hashes, *CARDS, *ITEMS, "红楼梦", "三体", "note"]:
        assert secret.encode() not in sent and json.dumps(secret).encode() not in sent, secret


def test_a_crash_after_the_server_accepted_resends_the_same_batch(tmp_path):
    """The uploader process is killed (SIGKILL) while the server answers: the next run sends the
    same batch id again, the server says duplicate, and nothing is counted twice."""
    with CountingServer() as server:
        config = make_config(tmp_path, server.url, "batch_rows = 250\n")
        written = journal_of(config)
        accepted = []

        def kill_the_uploader(body):
            accepted.append(body["batch_id"])
            if len(accepted) == 2:
                os.kill(process.pid, signal.SIGKILL)

        server.on_accept = kill_the_uploader
        process = subprocess.Popen([sys.executable, "-m", "kiosk", "upload", "--config",
                                    str(tmp_path / "kiosk.toml")], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL
        assert sent_upto(config) == (250, 350)  # the second batch was counted, not marked
        pending = state_file.load(state_file.state_path(config.journal_path)).pending
        assert (pending.batch_id, pending.first_seq, pending.last_seq) == (accepted[1], 251, 500)
        server.on_accept = None
        report = run(config)
    assert [b.duplicate for b in report.batches] == [True, False]
    assert report.batches[0].batch_id == accepted[1]
    assert server.totals == written and sent_upto(config) == (600, 0)
    assert state_file.load(state_file.state_path(config.journal_path)).pending is None


def test_a_long_backlog_goes_out_over_several_runs_with_pauses(tmp_path):
    with CountingServer() as server:
        config = make_config(tmp_path, server.url,
                             "batch_rows = 100\nmax_batches_per_run = 4\npause_s = 2.5\n")
        journal_of(config, days=3)  # 900 rows: 9 batches
        clocks = [Clock() for _ in range(3)]
        reports = [run(config, clock) for clock in clocks]
    assert [len(r.batches) for r in reports] == [4, 4, 1]
    assert [r.unsent_rows for r in reports] == [500, 100, 0]
    assert [c.waits for c in clocks] == [[2.5] * 3, [2.5] * 3, []]
    assert len(server.heartbeats) == 3 and server.heartbeats[0]["unsent_rows"] == 500


def test_a_dry_run_shows_the_requests_and_changes_nothing(tmp_path):
    with CountingServer() as server:
        config = make_config(tmp_path, server.url, "batch_rows = 250\n")
        written = journal_of(config)
        folder_before = sorted(p.name for p in config.data_dir.iterdir())
        report = dry_run(config)
        assert server.bodies == []
        assert sorted(p.name for p in config.data_dir.iterdir()) == folder_before
        assert sent_upto(config) == (0, 600)
        urls = [r.url for r in report.requests]
        assert urls == [server.url + "/api/v1/counts"] * 3 + [server.url + "/api/v1/heartbeat"]
        bodies = [r.body for r in report.requests[:3]]
        assert [(b["first_seq"], b["last_seq"]) for b in bodies] == [(1, 250), (251, 500),
                                                                     (501, 600)]
        dry_totals = Counter()
        for body in bodies:
            for c in body["counts"]:
                dry_totals[c["event"]] += c["n"]
        assert dry_totals == written
        # What a dry run shows is what the real run sends (the new batches' ids aside).
        run(config)
        real = [json.loads(raw) for path, raw in server.bodies if path == "/api/v1/counts"]
        for body in [*bodies, *real]:
            body.pop("batch_id")
        assert real == bodies


def test_the_heartbeat_reports_the_kiosks_health(tmp_path):
    with CountingServer(["401"]) as server:
        config = make_config(tmp_path, server.url, '[devices]\nscanner = "sim:scanner"\n'
                             'rfid = "serial:/dev/ttyUSB-none"\n')
        journal_of(config, days=1, per_day=50)
        report = run(config)
        assert "HTTP 401" in report.error and report.heartbeat_sent
        beat = server.heartbeats[-1]
        assert beat["kiosk_id"] == "kiosk-1" and beat["unsent_rows"] == 50
        assert beat["devices"]["scanner"]["state"] == "ok"
        assert beat["devices"]["rfid"] == {"state": "fault",
                                           "detail": "not found: serial:/dev/ttyUSB-none"}
        assert beat["ils"] == "not_set_up" and beat["last_upload_utc"] is None
        assert "HTTP 401" in beat["last_error"] and beat["time_utc"].endswith("Z")
        assert beat["disk_free_mb"] > 0 and beat["uptime_s"] > 0 and beat["catalogue"] is None
        assert set(beat) == {"kiosk_id", "time_utc", "version", "boot_id", "clock_synced",
                             "uptime_s", "devices", "ils", "disk_free_mb", "unsent_rows",
                             "last_upload_utc", "last_error", "catalogue", "system_version",
                             "slot", "update"}
        report = run(config, heartbeat_only=True)
        assert report.batches == () and report.error is None
        assert [p for p, _ in server.bodies].count("/api/v1/counts") == 1
        assert server.heartbeats[-1]["last_error"] == beat["last_error"]  # not cleared by it
        report = run(config)
        assert report.error is None and server.heartbeats[-1]["last_error"] is None
        assert server.heartbeats[-1]["last_upload_utc"] is not None


def test_the_catalogue_titles_go_once_per_version(tmp_path):
    from content.store import CatalogueStore
    from tests.content_batches import Batches

    with CountingServer() as server:
        config = make_config(tmp_path, server.url)
        batches = Batches(tmp_path / "batches")
        CatalogueStore(config.catalogue_dir).apply(batches.first, batches.public)
        assert run(config).catalogue_sent == "2026-11-1"
        assert run(config).catalogue_sent is None
    (sent,) = server.catalogues
    assert sent["kiosk_id"] == "kiosk-1" and sent["version"] == "2026-11-1"
    assert sent["titles"] and set(sent["titles"][0]) == {"id", "title", "author", "category",
                                                         "valid_from", "valid_until"}
    assert server.heartbeats[-1]["catalogue"] == "2026-11-1"


def test_the_last_error_shows_in_the_central_check(tmp_path):
    with CountingServer(["401"]) as server:
        config = make_config(tmp_path, server.url)
        journal_of(config, days=1, per_day=30)
        run(config)
        check = status.check_central(config)
        assert check.ok is False and "HTTP 401" in check.summary.english
        assert "journalctl -u kiosk-upload" in check.advice.english
        run(config)
        check = status.check_central(config)
    assert check.ok is True
    assert check.summary.english.startswith("reachable; 0 rows not yet uploaded, last upload 20")


def test_one_upload_at_a_time(tmp_path):
    with CountingServer() as server:
        config = make_config(tmp_path, server.url)
        journal_of(config, days=1, per_day=20)
        with state_file.exclusive(config.data_dir) as mine:
            assert mine
            assert run(config).busy
        assert server.bodies == [] and run(config).busy is False


def test_a_missing_token_is_the_last_error(tmp_path):
    with CountingServer() as server:
        config = make_config(tmp_path, server.url)
        config.central_token_path.unlink()
        report = run(config)
    assert "no token at" in report.error and server.bodies == []
    saved = state_file.load(state_file.state_path(config.journal_path))
    assert saved.last_error == report.error


def kiosk(*args):
    return subprocess.run([sys.executable, "-m", "kiosk", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_the_command_line(tmp_path):
    with CountingServer() as server:
        config = make_config(tmp_path, server.url)
        journal_of(config, days=1, per_day=40)
        toml = tmp_path / "kiosk.toml"
        shown = kiosk("upload", "--config", toml, "--dry-run")
        assert shown.returncode == 0 and shown.stdout.startswith(
            f"POST {server.url}/api/v1/counts\n{{")
        listed = json.loads(kiosk("upload", "--config", toml, "--dry-run", "--json").stdout)
        assert [r["url"].rsplit("/", 1)[1] for r in listed] == ["counts", "heartbeat"]
        assert server.bodies == []
        done = kiosk("upload", "--config", toml)
        assert done.returncode == 0, done.stderr
        assert "batches sent 1 (40 rows)" in done.stdout and "not uploaded 0" in done.stdout
        beat = kiosk("upload", "--config", toml, "--heartbeat-only", "--json")
        assert json.loads(beat.stdout)["heartbeat_sent"] is True
        server.script = ["401"]
        with Journal.open(config.journal_path, config.patron_key_path) as journal:
            journal.append("session", "ok")
        failed = kiosk("upload", "--config", toml)
    assert failed.returncode == 1 and "HTTP 401" in failed.stdout
    unset = tmp_path / "unset.toml"
    unset.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "other"}"\n')
    nothing = kiosk("upload", "--config", unset)
    assert nothing.returncode == 0 and "no [central] url" in nothing.stderr


@pytest.mark.parametrize("content", ["{not json", '{"pending": {"batch_id": 1}}'])
def test_a_damaged_state_file_starts_afresh(tmp_path, content, caplog):
    path = tmp_path / state_file.FILE_NAME
    path.write_text(content)
    assert state_file.load(path) == state_file.UploadState()
    assert "starting afresh" in caplog.text
