"""The kiosks' API against the real server on a loopback port, on SQLite and PostgreSQL:
counts are taken once (by batch id and by seq range, also under concurrent resends), every
refusal has the contract's status, heartbeats and catalogue titles are kept."""

import datetime as dt
import json
import random
import threading
import uuid

import pytest
import requests

from central.figures import Selection, gather
from central.storage import Storage
from tests.central_server import BACKENDS, add_kiosk, batch, database_url, day_counts, serve

DAY = dt.date(2026, 11, 24)


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    storage = Storage.open(database_url(request.param, tmp_path))
    try:
        with serve(storage, tmp_path) as running:
            yield running
    finally:
        storage.close()


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def post(server, path, body, token, **kw):
    return requests.post(f"{server.url}/api/v1/{path}", json=body, headers=auth(token),
                         timeout=30, **kw)


def loans(storage, kiosk="lobby-1", day=DAY):
    figures = gather(storage, Selection(day, day, (kiosk,)), storage.kiosks())
    return figures.total.loans


def checkout(n, hour=10, day=DAY):
    return {"date": day.isoformat(), "hour": hour, "event": "checkout", "outcome": "ok",
            "key": None, "n": n}


def test_a_batch_is_counted_and_a_resend_is_a_duplicate(server):
    token = add_kiosk(server.storage, "lobby-1")
    body = batch("lobby-1", 1, [checkout(12), checkout(3, hour=11)])
    first = post(server, "counts", body, token)
    assert first.status_code == 200
    assert first.json() == {"batch_id": body["batch_id"], "duplicate": False}
    again = post(server, "counts", body, token)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert loans(server.storage) == 15


def test_rows_repeated_inside_one_batch_are_added_up(server):
    token = add_kiosk(server.storage, "lobby-1")
    assert post(server, "counts", batch("lobby-1", 1, [checkout(2), checkout(5)]),
                token).status_code == 200
    assert post(server, "counts", batch("lobby-1", 8, [checkout(1)]), token).status_code == 200
    assert loans(server.storage) == 8


def test_identical_batches_arriving_at_once_count_once(server):
    token = add_kiosk(server.storage, "lobby-1")
    body = batch("lobby-1", 1, [checkout(7)])
    start = threading.Barrier(8)
    answers = []

    def send():
        start.wait()
        answers.append(post(server, "counts", body, token))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 8
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 7
    assert loans(server.storage) == 7


def test_overlapping_batches_arriving_at_once_one_wins(server):
    token = add_kiosk(server.storage, "lobby-1")
    bodies = [batch("lobby-1", 1 + i * 10, [checkout(150)]) for i in range(6)]
    start = threading.Barrier(len(bodies))
    codes = []

    def send(body):
        start.wait()
        codes.append(post(server, "counts", body, token).status_code)

    threads = [threading.Thread(target=send, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200] + [409] * 5
    assert loans(server.storage) == 150


def test_a_range_overlapping_an_accepted_one_is_refused(server):
    token = add_kiosk(server.storage, "lobby-1")
    assert post(server, "counts", batch("lobby-1", 101, [checkout(150)]),
                token).status_code == 200
    for first, last in ((1, 101), (250, 300), (150, 160), (50, 400)):
        body = batch("lobby-1", first, [checkout(last - first + 1)])
        answer = post(server, "counts", body, token)
        assert answer.status_code == 409, (first, last)
        assert "overlap" in answer.json()["detail"]
    for first, last in ((1, 100), (251, 400)):  # the neighbours on both sides are fine
        body = batch("lobby-1", first, [checkout(last - first + 1)])
        assert post(server, "counts", body, token).status_code == 200
    assert loans(server.storage) == 400


def test_another_kiosk_may_use_the_same_seq_numbers(server):
    one, two = add_kiosk(server.storage, "lobby-1"), add_kiosk(server.storage, "lobby-2")
    assert post(server, "counts", batch("lobby-1", 1, [checkout(4)]), one).status_code == 200
    assert post(server, "counts", batch("lobby-2", 1, [checkout(4)]), two).status_code == 200


def test_a_batch_id_reused_with_other_rows_is_refused(server):
    token = add_kiosk(server.storage, "lobby-1")
    body = batch("lobby-1", 1, [checkout(10)])
    assert post(server, "counts", body, token).status_code == 200
    assert post(server, "counts", {**body, "first_seq": 11, "last_seq": 20},
                token).status_code == 409
    other = add_kiosk(server.storage, "lobby-2")
    assert post(server, "counts", {**body, "kiosk_id": "lobby-2"}, other).status_code == 409


def test_tokens_are_checked(server):
    token = add_kiosk(server.storage, "lobby-1")
    add_kiosk(server.storage, "lobby-2")
    body = batch("lobby-1", 1, [checkout(1)])
    url = f"{server.url}/api/v1/counts"
    assert requests.post(url, json=body, timeout=10).status_code == 401
    bad = requests.post(url, json=body, headers=auth("x" * 43), timeout=10)
    assert bad.status_code == 401 and bad.headers["WWW-Authenticate"] == "Bearer"
    basic = requests.post(url, json=body, headers={"Authorization": f"Basic {token}"},
                          timeout=10)
    assert basic.status_code == 401
    wrong = post(server, "counts", {**body, "kiosk_id": "lobby-2"}, token)
    assert wrong.status_code == 403 and "lobby-1" in wrong.json()["detail"]
    server.storage.revoke_kiosk("lobby-1")
    assert post(server, "counts", body, token).status_code == 401
    assert loans(server.storage) == 0


def test_malformed_and_invalid_bodies(server):
    token = add_kiosk(server.storage, "lobby-1")
    url = f"{server.url}/api/v1/counts"
    headers = {**auth(token), "Content-Type": "application/json"}
    broken = requests.post(url, data=b'{"kiosk_id": ', headers=headers, timeout=10)
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    good = batch("lobby-1", 1, [checkout(1)])
    for change in ({"first_seq": 0}, {"last_seq": 0}, {"batch_id": "not-a-uuid"},
                   {"counts": [checkout(0)]}, {"counts": [{**checkout(1), "hour": 24}]},
                   {"counts": [{**checkout(1), "date": "2026-02-30"}]},
                   {"counts": [{**checkout(1), "event": "Checkout"}]},
                   {"counts": [{**checkout(1), "outcome": "x" * 65}]},
                   {"counts": [{**checkout(1), "key": "isbn:123"}]},
                   {"counts": [{**checkout(1), "patron": "23520001234566"}]},
                   {"first_seq": 10, "last_seq": 9}):
        answer = post(server, "counts", {**good, **change}, token)
        assert answer.status_code == 422, change
    assert loans(server.storage) == 0


def test_too_many_counts_or_too_big_a_body(server):
    token = add_kiosk(server.storage, "lobby-1")
    rows = [checkout(1, hour=h % 24, day=DAY - dt.timedelta(days=h // 24)) for h in range(5001)]
    over = post(server, "counts", batch("lobby-1", 1, rows), token)
    assert over.status_code == 413 and "5000" in over.json()["detail"]
    assert post(server, "counts", batch("lobby-1", 1, rows[:5000]), token).status_code == 200
    huge = json.dumps({"kiosk_id": "lobby-1", "pad": "x" * (9 * 1024 * 1024)})
    answer = requests.post(f"{server.url}/api/v1/counts", data=huge, timeout=30,
                           headers={**auth(token), "Content-Type": "application/json"})
    assert answer.status_code == 413

    def chunks():  # no Content-Length: the limit still holds
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    chunked = requests.post(f"{server.url}/api/v1/counts", data=chunks(), timeout=30,
                            headers={**auth(token), "Content-Type": "application/json"})
    assert chunked.status_code == 413


def test_a_realistic_week_adds_up(server):
    token = add_kiosk(server.storage, "lobby-1")
    rng = random.Random(3)
    seq, expected = 1, 0
    for d in range(7):
        counts = day_counts(DAY - dt.timedelta(days=d), rng)
        expected += sum(c["n"] for c in counts if c["event"] == "checkout" and c["outcome"] == "ok")
        body = batch("lobby-1", seq, counts)
        assert post(server, "counts", body, token).status_code == 200
        seq = body["last_seq"] + 1
    figures = gather(server.storage, Selection(DAY - dt.timedelta(days=6), DAY, ("lobby-1",)),
                     server.storage.kiosks())
    assert figures.total.loans == expected == sum(d.loans for d in figures.per_day)
    assert sum(h.loans for h in figures.per_hour) == expected


def heartbeat(kiosk="lobby-1", **change):
    return {"kiosk_id": kiosk, "time_utc": "2026-11-24T06:00:00Z", "version": "0.1.0",
            "boot_id": str(uuid.uuid4()), "clock_synced": True, "uptime_s": 3600,
            "devices": {"scanner": {"state": "ok", "detail": "connected"}}, "ils": "ok",
            "disk_free_mb": 12000, "unsent_rows": 42, "last_upload_utc": None,
            "last_error": None, "catalogue": "2026-12", **change}


def test_heartbeat_keeps_the_latest(server):
    token = add_kiosk(server.storage, "lobby-1")
    first = post(server, "heartbeat", heartbeat(), token)
    assert first.status_code == 200 and first.json()["ok"] is True
    assert first.json()["server_time_utc"].endswith("Z")
    assert post(server, "heartbeat", heartbeat(unsent_rows=0, uptime_s=None,
                                               disk_free_mb=None), token).status_code == 200
    [entry] = server.storage.fleet(["lobby-1"])
    assert entry.heartbeat["unsent_rows"] == 0 and entry.heartbeat_utc
    assert post(server, "heartbeat", heartbeat(ils="broken"), token).status_code == 422
    assert post(server, "heartbeat", heartbeat(kiosk="lobby-2"), token).status_code == 403


def test_catalogue_names_the_titles_in_the_figures(server):
    token = add_kiosk(server.storage, "lobby-1")
    titles = {"kiosk_id": "lobby-1", "version": "2026-12", "titles": [
        {"id": "000001", "title": "红楼梦", "author": "曹雪芹", "category": "classics"},
        {"id": "000002", "title": "=HYPERLINK(\"x\")", "author": "", "category": "health"}]}
    assert post(server, "catalogue", titles, token).json() == {"ok": True}
    counts = [{"date": DAY.isoformat(), "hour": 9, "event": e, "outcome": "ok",
               "key": "book:000001", "n": n} for e, n in (("ebook_view", 5), ("ebook_qr", 2),
                                                          ("ebook_download", 1))]
    counts.append({"date": DAY.isoformat(), "hour": 9, "event": "ebook_view", "outcome": "ok",
                   "key": "book:000999", "n": 4})
    assert post(server, "counts", batch("lobby-1", 1, counts), token).status_code == 200
    figures = gather(server.storage, Selection(DAY, DAY, ("lobby-1",)), server.storage.kiosks())
    by_title = {u.label: u for u in figures.titles}
    assert (by_title["红楼梦"].views, by_title["红楼梦"].qr_scans,
            by_title["红楼梦"].downloads) == (5, 2, 1)
    assert by_title["000999"].views == 4 and by_title["000999"].category == ""
    assert {u.label: u.views for u in figures.categories} == {"classics": 5, "": 4}


def test_health_and_openapi(server):
    health = requests.get(f"{server.url}/api/v1/health", timeout=10).json()
    assert health["ok"] is True and health["version"]
    spec = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    assert {"/api/v1/counts", "/api/v1/heartbeat", "/api/v1/catalogue",
            "/api/v1/health"} <= set(spec["paths"])
    assert "/fleet" not in spec["paths"]
    assert "409" in spec["paths"]["/api/v1/counts"]["post"]["responses"]
    # Off by default: its scripts come from a CDN (test_central_security turns it on).
    assert requests.get(f"{server.url}/docs", timeout=10).status_code == 404


def test_failures_are_by_reason_and_leave_out_how_sessions_ended(server):
    token = add_kiosk(server.storage, "lobby-1")
    rows = [{"date": DAY.isoformat(), "hour": 9, "event": e, "outcome": o, "key": None, "n": n}
            for e, o, n in (("checkout", "blocked", 3), ("checkout", "ok", 9),
                            ("checkin", "unreadable_tag", 1), ("session", "timeout", 7),
                            ("search", "abandoned", 2), ("checkout", "blocked", 1))]
    assert post(server, "counts", batch("lobby-1", 1, rows), token).status_code == 200
    figures = gather(server.storage, Selection(DAY, DAY, ("lobby-1",)), server.storage.kiosks())
    assert [(f.event, f.outcome, f.n) for f in figures.failures] == [
        ("checkout", "blocked", 4), ("checkin", "unreadable_tag", 1)]
    assert figures.total.sessions == 7 and figures.total.loans == 9


def test_a_transaction_found_done_after_a_crash_is_a_loan_and_intents_are_no_failures(server):
    """A kiosk journals an intent before each transaction; an answer that was lost is
    "unknown" until the kiosk finds it "reconciled" (done) in the ILS: one loan, no failure."""
    token = add_kiosk(server.storage, "lobby-1")
    rows = [{"date": DAY.isoformat(), "hour": 9, "event": e, "outcome": o, "key": None, "n": n}
            for e, o, n in (("intent", "checkout", 3), ("checkout", "ok", 1),
                            ("checkout", "unknown", 1), ("checkout", "reconciled", 1),
                            ("checkout", "reconciled_not_done", 1),
                            ("service", "out_of_service", 1), ("service", "restored", 1))]
    assert post(server, "counts", batch("lobby-1", 1, rows), token).status_code == 200
    figures = gather(server.storage, Selection(DAY, DAY, ("lobby-1",)), server.storage.kiosks())
    assert figures.total.loans == 2
    assert [(f.event, f.outcome, f.n) for f in figures.failures] == [
        ("checkout", "reconciled_not_done", 1)]
