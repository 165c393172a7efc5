"""The HTTP sender against real servers on 127.0.0.1: what is retried, how long it waits (the
sleep is injected and records the waits), what is given up on at once."""

import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kiosk.errors import CentralRequestError
from kiosk.upload.sender import MAX_WAIT_S, Central, RetryPolicy, read_token
from tests.counting_server import TOKEN, CountingServer

BATCH = {"kiosk_id": "kiosk-1", "batch_id": "4a0c3c4e-2b1e-4c1d-9a51-0f7c3f1d2e10",
         "first_seq": 1, "last_seq": 1,
         "counts": [{"date": "2026-11-24", "hour": 9, "event": "checkout", "outcome": "ok",
                     "key": None, "n": 1}]}


class Clock:
    """Injected sleep and clock: waits are recorded and pass instantly."""

    def __init__(self):
        self.now = 1000.0
        self.waits = []

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def central(url, clock, *, token=TOKEN, retries=5, backoff=1.0, budget=300.0, read=2.0,
            seed=1):
    return Central(url, token, timeout=(1.0, read), policy=RetryPolicy(retries, backoff, budget),
                   sleep=clock.sleep, clock=clock, rng=random.Random(seed))


def test_network_errors_and_server_errors_are_retried_with_full_jitter():
    clock = Clock()
    with CountingServer(["drop", "500", "503", "drop", "500"]) as server:
        with central(server.url, clock) as c:
            assert c.post("/api/v1/counts", BATCH) == {"batch_id": BATCH["batch_id"],
                                                       "duplicate": False}
    # The same draws as the policy makes: uniform(0, min(60, 1 * 2^n)) for retry n.
    rng = random.Random(1)
    assert clock.waits == [rng.uniform(0, min(MAX_WAIT_S, 2 ** n)) for n in range(5)]
    assert server.answers == ["drop", "500", "503", "drop", "500", "ok"]
    assert server.totals == {"checkout": 1}


def test_the_back_off_grows_exponentially_up_to_its_ceiling():
    policy = RetryPolicy(retries=20, backoff_s=1.0)
    rng = random.Random(7)
    waits = [[policy.wait_s(n, rng) for _ in range(200)] for n in range(10)]
    for n, drawn in enumerate(waits):
        ceiling = min(MAX_WAIT_S, 2 ** n)
        assert all(0 <= w <= ceiling for w in drawn)
        assert max(drawn) > ceiling * 0.9  # the jitter spans the whole range
    assert max(waits[9]) <= MAX_WAIT_S


def test_a_429_is_retried_after_its_retry_after():
    clock = Clock()
    with CountingServer(["429:7", "429:2"]) as server:
        with central(server.url, clock, backoff=0.001) as c:
            c.post("/api/v1/counts", BATCH)
    assert clock.waits == [7.0, 2.0]


def test_retries_stop_at_their_number_and_at_the_time_budget():
    clock = Clock()
    with CountingServer(["500"] * 10) as server:
        with central(server.url, clock, retries=3) as c, pytest.raises(CentralRequestError) as e:
            c.post("/api/v1/counts", BATCH)
    assert len(clock.waits) == 3 and e.value.status == 500 and e.value.retryable
    assert server.answers == ["500"] * 4

    clock = Clock()
    with CountingServer(["429:120", "ok"]) as server:
        with central(server.url, clock, budget=60) as c, pytest.raises(CentralRequestError) as e:
            c.post("/api/v1/counts", BATCH)
    assert clock.waits == [] and "past the retry budget" in str(e.value)
    assert server.totals == {}


def test_other_client_errors_are_not_retried():
    clock = Clock()
    with CountingServer(["401"]) as server:
        with central(server.url, clock) as c, pytest.raises(CentralRequestError) as e:
            c.post("/api/v1/counts", BATCH)
        assert not e.value.retryable and e.value.status == 401
        assert "scripted 401" in str(e.value)
        with (central(server.url, clock, token="wrong") as c,
              pytest.raises(CentralRequestError) as e):
            c.post("/api/v1/heartbeat", {})
        assert e.value.status == 401 and "bad token" in e.value.reason
    assert clock.waits == []


def test_a_slow_reply_times_out_and_the_retry_is_a_duplicate():
    """The server counted the batch but answered too late: the resend is not counted again."""
    clock = Clock()
    with CountingServer(["slow"]) as server:
        with central(server.url, clock, read=0.3) as c:
            assert c.post("/api/v1/counts", BATCH)["duplicate"] is True
    assert server.answers == ["slow", "ok", "duplicate"]
    assert server.totals == {"checkout": 1} and len(clock.waits) == 1


def test_a_refused_connection_names_the_reason():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    clock = Clock()
    with central(f"http://127.0.0.1:{port}", clock, retries=1) as c:
        with pytest.raises(CentralRequestError, match="Connection refused"):
            c.post("/api/v1/counts", BATCH)
    assert len(clock.waits) == 1


def test_a_redirect_is_not_followed():
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(301)
            self.send_header("Location", "https://elsewhere.example/api/v1/counts")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        with central(f"http://127.0.0.1:{http.server_address[1]}", Clock()) as c:
            with pytest.raises(CentralRequestError,
                               match="redirected to https://elsewhere.example"):
                c.post("/api/v1/counts", BATCH)
    finally:
        http.shutdown()
        http.server_close()


def test_the_token_file_is_read_and_its_problems_named(tmp_path, caplog):
    path = tmp_path / "central.token"
    with pytest.raises(CentralRequestError, match="kiosk-central kiosk add"):
        read_token(path)
    path.write_text("two words\n")
    with pytest.raises(CentralRequestError, match="not a token"):
        read_token(path)
    path.write_text(TOKEN + "\n")
    path.chmod(0o644)
    assert read_token(path) == TOKEN
    assert "readable by others" in caplog.text


def test_a_503_is_backed_off_like_a_429_after_its_retry_after():
    """An overloaded server answers 503 with Retry-After: seconds or an HTTP date."""
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=40), usegmt=True)
    clock = Clock()
    with CountingServer(["503:7", f"503:{later}", "503"]) as server:
        with central(server.url, clock, backoff=0.001) as c:
            assert c.post("/api/v1/counts", BATCH)["duplicate"] is False
    assert clock.waits[0] == 7.0 and 30 < clock.waits[1] <= 40
    assert clock.waits[2] <= 0.004  # no Retry-After: the policy's own back-off
    assert server.answers == ["503:7", f"503:{later}", "503", "ok"]
    assert server.totals == {"checkout": 1}


def test_a_503_asking_for_more_than_the_budget_ends_the_run_for_the_timer():
    clock = Clock()
    with CountingServer(["503:600", "ok"]) as server:
        with central(server.url, clock, budget=300) as c, pytest.raises(CentralRequestError) as e:
            c.post("/api/v1/counts", BATCH)
    assert e.value.status == 503 and e.value.retryable and clock.waits == []
    assert "HTTP 503: slow down (gave up: the next try would be after 600 s" in str(e.value)
    assert server.totals == {}
