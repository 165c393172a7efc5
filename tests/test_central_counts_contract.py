"""Contract 2 of the counts upload (docs/upload.md) against the real server on a loopback port,
on SQLite and PostgreSQL: a batch must be believable. Each refusal is a 422 whose message says
what is wrong, and nothing of a refused batch is counted; what kiosks of either contract
really send is accepted."""

import datetime as dt

import pytest
import requests

from central.storage import Storage
from common.upload_contract import MAX_ROW_WEIGHT
from tests.central_server import BACKENDS, add_kiosk, batch, database_url, serve

NOW = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.timezone.utc)
TODAY = NOW.date()


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    storage = Storage.open(database_url(request.param, tmp_path))
    try:
        with serve(storage, tmp_path) as running:
            running.clock[0] = NOW
            running.token = add_kiosk(storage, "lobby-1")
            yield running
    finally:
        storage.close()


def post(server, body):
    return requests.post(f"{server.url}/api/v1/counts", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {server.token}"})


def count(event="checkout", outcome="ok", n=1, day=TODAY, hour=10, key=None):
    return {"date": day.isoformat(), "hour": hour, "event": event, "outcome": outcome,
            "key": key, "n": n}


def cells(server):
    server.storage.fold()  # the totals as the figures read them
    with server.storage.db.read() as conn:
        return {(e, o): int(n) for e, o, n in conn.all(
            "SELECT event, outcome, SUM(n) FROM counts WHERE kiosk_id = 'lobby-1' "
            "GROUP BY event, outcome")}


def messages(answer):
    assert answer.status_code == 422, answer.text
    return " | ".join(e["msg"] for e in answer.json()["detail"])


def one_row(*counts):
    return batch("lobby-1", 41, list(counts), rows=1)


REFUSED = {  # name: (body, what the message must say)
    "n_of_2147483647_in_a_one_row_batch": (
        one_row(count(n=2147483647)),
        "the counts add up to 2147483647 for journal rows 41 to 41 (1 row)"),
    "fewer_counts_than_rows": (
        batch("lobby-1", 1, [count(n=2), count("checkin", n=1)], rows=5),
        "the counts add up to 3 for journal rows 1 to 5 (5 rows)"),
    "more_counts_than_rows": (
        batch("lobby-1", 1, [count(n=4), count("session", "timeout", n=2)], rows=5),
        "the counts add up to 6 for journal rows 1 to 5 (5 rows)"),
    "refused_links_past_the_ceiling_of_a_row": (
        batch("lobby-1", 1, [count(n=1), count("ebook_download", "expired",
                                              n=2 * MAX_ROW_WEIGHT + 1)], rows=3),
        f"{2 * MAX_ROW_WEIGHT + 1} refused download links for the 2 rows left to them; a row "
        f"holds at most {MAX_ROW_WEIGHT}, in journal rows 1 to 3 (3 rows)"),
    "refused_links_without_a_row_left": (
        batch("lobby-1", 1, [count(n=3), count("ebook_download", "expired", n=50)], rows=3),
        "no row is left for the 1 counts of refused download links, which need one each: the "
        "other counts add up to 3 for journal rows 1 to 3 (3 rows)"),
    "two_counts_of_refused_links_in_one_row": (
        batch("lobby-1", 1, [count(n=1), count("ebook_download", "expired", n=5),
                             count("ebook_download", "bad signature", n=5)], rows=2),
        "only 1 row is left for the 2 counts of refused download links, which need one each"),
    "fewer_refused_links_than_their_rows": (
        batch("lobby-1", 1, [count(n=1), count("ebook_download", "expired", n=2)], rows=4),
        "2 refused download links for the 3 rows left to them, which hold at least one each, "
        "in journal rows 1 to 4 (4 rows)"),
    "n_as_a_string": (
        batch("lobby-1", 1, [{**count(), "n": "1"}], rows=1),
        "Input should be a valid integer, not a string"),
    "n_as_a_boolean": (
        batch("lobby-1", 1, [{**count(), "n": True}], rows=1),
        "Input should be a valid integer, not true or false"),
    "n_as_a_fraction": (  # a whole 1.0 is an integer to JSON Schema, and taken
        batch("lobby-1", 1, [{**count(), "n": 1.5}], rows=1),
        "Input should be a valid integer, got a number with a fractional part"),
    "hour_as_a_string": (
        batch("lobby-1", 1, [{**count(), "hour": "10"}], rows=1),
        "Input should be a valid integer"),
    "first_seq_as_a_string": (
        {**batch("lobby-1", 1, [count()]), "first_seq": "1"}, "Input should be a valid integer"),
    "last_seq_as_a_boolean": (
        {**batch("lobby-1", 1, [count()]), "last_seq": True}, "Input should be a valid integer"),
    "a_date_two_days_ahead": (
        one_row(count(day=TODAY + dt.timedelta(days=2))),
        "2026-12-09 is more than a day after the server's date (2026-12-07 UTC)"),
    "a_date_over_three_years_old": (
        one_row(count(day=TODAY - dt.timedelta(days=1097))),
        "2023-12-06 is more than 3 years (1096 days) before the server's date (2026-12-07 UTC)"),
    "an_unknown_top_level_field": (
        {**batch("lobby-1", 1, [count()]), "contract": 2}, "Extra inputs are not permitted"),
    "an_empty_batch": (
        {**batch("lobby-1", 1, [count()]), "counts": []}, "List should have at least 1 item"),
}


@pytest.mark.parametrize("name", REFUSED)
def test_an_unbelievable_batch_is_refused_with_its_reason(server, name):
    body, said = REFUSED[name]
    assert said in messages(post(server, body))
    assert cells(server) == {}
    # Refused, not kept: the same rows under a new batch id, told right, are taken.
    assert post(server, batch("lobby-1", body["first_seq"] if isinstance(body["first_seq"], int)
                              else 1, [count()])).status_code == 200


def test_dates_are_read_against_the_servers_clock(server):
    """The app's clock (the one tests move) decides, not the machine's."""
    assert post(server, one_row(count(day=TODAY - dt.timedelta(days=1096)))).status_code == 200
    server.clock[0] = NOW + dt.timedelta(days=1)
    said = messages(post(server, batch("lobby-1", 2, [count(day=TODAY - dt.timedelta(
        days=1096))])))
    assert "2023-12-07 is more than 3 years (1096 days) before the server's date " \
           "(2026-12-08 UTC)" in said


def test_the_edges_of_the_window_are_taken(server):
    """Tomorrow (a kiosk east of the server, or a minute fast at midnight) and three years
    back (rows a kiosk with an unsynced clock journaled, sent at last) are believable."""
    body = batch("lobby-1", 1, [count(day=TODAY + dt.timedelta(days=1), hour=0),
                                count(day=TODAY - dt.timedelta(days=1096), hour=23)])
    assert post(server, body).status_code == 200
    assert cells(server) == {("checkout", "ok"): 2}


def test_counted_refusals_within_their_rows_are_taken(server):
    """What the uploader sends for refused download links: a row stands for 1 to the ceiling."""
    body = batch("lobby-1", 1, [
        count(n=2), count("ebook_download", "bad signature", n=1201),
        count("ebook_download", "expired", n=MAX_ROW_WEIGHT),
        count("ebook_download", "ok", n=1, key="book:000123")], rows=5)
    answer = post(server, body)
    assert answer.status_code == 200, answer.text
    assert cells(server)[("ebook_download", "expired")] == MAX_ROW_WEIGHT


def test_both_contracts_replays_are_taken(server):
    """Contract 1 kiosks send `offline_replay` (sent or refused); contract 2 ones the event
    itself, replayed or replay_refused."""
    old = batch("lobby-1", 1, [count("checkout", "offline"), count("offline_replay", "sent"),
                               count("offline_replay", "refused")])
    new = batch("lobby-1", 4, [count("checkout", "offline", n=2), count("checkin", "offline"),
                               count("checkout", "replayed", n=2), count("checkin", "replayed"),
                               count("renew", "replay_refused")])
    assert post(server, old).status_code == 200
    assert post(server, new).status_code == 200
    assert cells(server) == {
        ("checkout", "offline"): 3, ("checkin", "offline"): 1, ("offline_replay", "sent"): 1,
        ("offline_replay", "refused"): 1, ("checkout", "replayed"): 2,
        ("checkin", "replayed"): 1, ("renew", "replay_refused"): 1}


def test_the_contract_is_in_the_published_schema(server):
    spec = requests.get(f"{server.url}/openapi.json", timeout=30).json()
    batch_schema = spec["components"]["schemas"]["CountsBatch"]
    assert batch_schema["additionalProperties"] is False
    assert batch_schema["properties"]["counts"]["minItems"] == 1
