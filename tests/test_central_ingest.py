"""A fleet uploading at once, against the real server on a loopback port, on SQLite and
PostgreSQL: never a 500, nothing lost or doubled, a 503 with Retry-After when the ingest gate
is full; and `kiosk-central counts list|remove` (as a subprocess) taking one batch's counts
out of the totals exactly, in the audit log."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import requests

from central import audit
from central.audit import AuditAction
from central.errors import DatabaseBusy
from central.storage import Storage
from tests.central_server import BACKENDS, add_kiosk, batch, database_url, serve, totals
from tests.conftest import ROOT

DAY = dt.date(2026, 11, 24)
EVENTS = ("checkout", "checkin", "session", "renew")


def rows(count: int, salt: int) -> list[dict]:
    """`count` distinct count rows over days, hours and events, n from 1 to 4."""
    out = []
    for i in range(count):
        out.append({"date": (DAY - dt.timedelta(days=i // 60)).isoformat(),
                    "hour": 8 + (i // 4) % 12, "event": EVENTS[i % 4], "outcome": "ok",
                    "key": None if i % 3 else f"book:{(i + salt) % 97:06d}",
                    "n": 1 + (i + salt) % 4})
    return out


def per_event(bodies: list[dict]) -> dict[str, int]:
    summed: Counter[str] = Counter()
    for body in bodies:
        for row in body["counts"]:
            summed[row["event"]] += row["n"]
    return dict(summed)


@pytest.fixture(params=BACKENDS)
def storage(request, tmp_path):
    opened = Storage.open(database_url(request.param, tmp_path))
    try:
        yield opened
    finally:
        opened.close()


def post(url: str, body: dict, token: str) -> requests.Response:
    return requests.post(f"{url}/api/v1/counts", json=body, timeout=60,
                         headers={"Authorization": f"Bearer {token}"})


def test_forty_kiosks_uploading_at_once_get_no_500_and_each_row_counts_once(storage, tmp_path):
    kiosks = [f"kiosk-{k:02d}" for k in range(40)]
    tokens = {k: add_kiosk(storage, k) for k in kiosks}
    work = {}
    for n, k in enumerate(kiosks):
        first = batch(k, 1, rows(400, n))
        work[k] = [first, batch(k, first["last_seq"] + 1, rows(300, n + 50))]
    statuses: list[int] = []
    start = threading.Barrier(len(kiosks))

    def kiosk(name: str) -> None:
        start.wait()
        # The first batch twice, as after a lost answer: the resend must count nothing.
        for body in (work[name][0], work[name][0], work[name][1]):
            while True:
                answer = post(server.url, body, tokens[name])
                statuses.append(answer.status_code)
                if answer.status_code != 503:
                    break
                time.sleep(min(float(answer.headers["Retry-After"]), 2.0))

    with serve(storage, tmp_path, ingest_wait_s=1.0) as server:
        threads = [threading.Thread(target=kiosk, args=(k,)) for k in kiosks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert set(statuses) <= {200, 503}, Counter(statuses)
    assert statuses.count(200) == 3 * len(kiosks)
    for k in kiosks:
        assert totals(storage, k) == per_event(work[k]), k


def test_a_full_gate_answers_503_with_retry_after(tmp_path):
    storage = Storage.open(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    token = add_kiosk(storage, "lobby-1")
    inside, release = threading.Event(), threading.Event()
    real_ingest = storage.ingest

    def slow_ingest(*args, **kwargs):
        inside.set()
        release.wait(30)
        return real_ingest(*args, **kwargs)

    storage.ingest = slow_ingest  # type: ignore[method-assign]
    first_body = batch("lobby-1", 1, rows(10, 0))
    second_body = batch("lobby-1", first_body["last_seq"] + 1, rows(10, 1))
    try:
        with serve(storage, tmp_path, ingest_slots=1, ingest_wait_s=0.2) as server:
            answers = []
            holder = threading.Thread(target=lambda: answers.append(
                post(server.url, first_body, token)))
            holder.start()
            assert inside.wait(30)
            refused = post(server.url, second_body, token)
            release.set()
            holder.join()
            assert refused.status_code == 503
            assert int(refused.headers["Retry-After"]) >= 1
            assert "busy" in refused.json()["detail"]
            assert answers[0].status_code == 200
            assert post(server.url, second_body, token).status_code == 200
            # Other requests are not gated.
            assert requests.get(f"{server.url}/api/v1/health", timeout=10).status_code == 200
        assert totals(storage, "lobby-1") == per_event([first_body, second_body])
    finally:
        storage.close()


def test_a_busy_database_is_a_503_not_a_traceback(tmp_path):
    storage = Storage.open(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    token = add_kiosk(storage, "lobby-1")

    def busy(*args, **kwargs):
        raise DatabaseBusy("the database is busy: no write turn in 30 s")

    storage.ingest = busy  # type: ignore[method-assign]
    try:
        with serve(storage, tmp_path) as server:
            answer = post(server.url, batch("lobby-1", 1, rows(5, 0)), token)
        assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1
        assert "database" in answer.json()["detail"]
    finally:
        storage.close()


def kiosk_central(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "central.cli", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_counts_remove_takes_out_exactly_one_batch_and_is_audited(storage, tmp_path):
    tokens = {k: add_kiosk(storage, k) for k in ("lobby-1", "lobby-2")}
    good = batch("lobby-1", 1, rows(200, 0))
    wrong = batch("lobby-1", good["last_seq"] + 1, rows(150, 7))  # same days, hours, keys
    later = batch("lobby-1", wrong["last_seq"] + 1, rows(20, 3))
    other = batch("lobby-2", 1, rows(50, 1))
    extra = batch("lobby-1", later["last_seq"] + 1, rows(30, 5))
    # Folding only when the test says (totals() folds), so that both kinds of removal are seen:
    # of a batch already added into the totals, and of one still waiting to be.
    storage.folder.batch_arrived = lambda: None  # type: ignore[method-assign]
    with serve(storage, tmp_path) as server:
        for body in (good, wrong, later):
            assert post(server.url, body, tokens["lobby-1"]).status_code == 200
        assert post(server.url, other, tokens["lobby-2"]).status_code == 200
        assert totals(storage, "lobby-1") == per_event([good, wrong, later])
        assert post(server.url, extra, tokens["lobby-1"]).status_code == 200
        db = storage.db.url

        waiting = kiosk_central("counts", "remove", extra["batch_id"], "--db", db)
        assert waiting.returncode == 0, waiting.stderr
        listed = kiosk_central("counts", "list", "--kiosk", "lobby-1", "--db", db)
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert len(lines) == 4 and all(line.split("\t")[1] == "lobby-1" for line in lines)
        assert any(line.startswith(wrong["batch_id"]) for line in lines)
        assert kiosk_central("counts", "list", "--db", db).stdout.count("\n") == 5

        removed = kiosk_central("counts", "remove", wrong["batch_id"], "--db", db)
        assert removed.returncode == 0, removed.stderr
        assert "lobby-1" in removed.stderr
        assert totals(storage, "lobby-1") == per_event([good, later])
        assert totals(storage, "lobby-2") == per_event([other])

        # The kiosk resending it (its answer lost) hears it is there: it is not counted again.
        resent = post(server.url, wrong, tokens["lobby-1"])
        assert resent.status_code == 200 and resent.json()["duplicate"] is True
        # Its rows under another batch id stay refused: the range is known.
        again = batch("lobby-1", wrong["first_seq"], wrong["counts"],
                      rows=wrong["last_seq"] - wrong["first_seq"] + 1)
        assert post(server.url, again, tokens["lobby-1"]).status_code == 409
        assert totals(storage, "lobby-1") == per_event([good, later])

    twice = kiosk_central("counts", "remove", wrong["batch_id"], "--db", db)
    assert twice.returncode == 2 and "removed already" in twice.stderr
    unknown = kiosk_central("counts", "remove", "no-such-batch", "--db", db)
    assert unknown.returncode == 2 and "no batch" in unknown.stderr
    listed = kiosk_central("counts", "list", "--kiosk", "lobby-1", "--db", db).stdout
    (line,) = [line for line in listed.splitlines() if line.startswith(wrong["batch_id"])]
    assert "removed" in line
    with storage.db.read() as conn:
        entry, first = audit.entries(conn, action=AuditAction.COUNTS_REMOVED)
    assert first.subject == extra["batch_id"] and first.detail["n"] == sum(
        r["n"] for r in extra["counts"])
    assert entry.subject == wrong["batch_id"] and entry.actor.startswith(audit.CLI)
    assert entry.detail["kiosk"] == "lobby-1"
    assert entry.detail["first_seq"] == wrong["first_seq"]
    assert entry.detail["last_seq"] == wrong["last_seq"]
    assert entry.detail["counts"] == len({(r["date"], r["hour"], r["event"], r["key"])
                                          for r in wrong["counts"]})  # added up per key
    assert entry.detail["n"] == sum(r["n"] for r in wrong["counts"])


def test_batch_remove_points_to_counts_remove(tmp_path):
    done = kiosk_central("batch", "remove", "x", "--db", f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert done.returncode == 2 and "kiosk-central counts remove" in done.stderr


def test_accepted_batches_are_added_into_the_totals_by_themselves(tmp_path):
    storage = Storage.open(f"sqlite:///{tmp_path / 'central.sqlite3'}")
    token = add_kiosk(storage, "lobby-1")
    body = batch("lobby-1", 1, rows(100, 0))
    try:
        with serve(storage, tmp_path) as server:
            assert post(server.url, body, token).status_code == 200
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with storage.db.read() as conn:
                    if conn.value("SELECT COUNT(*) FROM batch_counts WHERE folded = 0") == 0:
                        break
                time.sleep(0.1)
            with storage.db.read() as conn:  # read as they are, without folding first
                found = dict(conn.all("SELECT event, SUM(n) FROM counts GROUP BY event"))
        assert found == per_event([body])
    finally:
        storage.close()
