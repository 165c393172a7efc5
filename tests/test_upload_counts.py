"""Journal rows to counts, from real journal files: local dates and hours, e-book keys, nothing
that identifies a patron, and batches within their bounds."""

import json
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.journal import Journal
from kiosk.upload.counts import MAX_COUNTS, build_batch, outcome_name
from kiosk.upload.run import next_batch
from kiosk.upload.state import PendingBatch
from tests.upload_journal import CARDS, START, append_at, fill

CHINA = timezone(timedelta(hours=8))


@pytest.fixture
def journal(tmp_path):
    with Journal.open(tmp_path / "journal.sqlite3", tmp_path / "patron.key") as j:
        yield j


def at(hour, minute=0, day=24):
    return datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc)


def test_rows_are_counted_per_local_date_hour_event_outcome_and_title(journal):
    append_at(journal, at(15, 10), "checkout", "ok", item="33520000123453", patron=CARDS[0])
    append_at(journal, at(15, 50), "checkout", "ok", item="33520000999990", patron=CARDS[1])
    append_at(journal, at(16, 5), "checkout", "ok", patron=CARDS[0])  # 00:05 next day in UTC+8
    append_at(journal, at(15, 20), "ebook_qr", "ok", item="000123")
    append_at(journal, at(15, 30), "ebook_qr", "ok", item="000123")
    append_at(journal, at(15, 40), "ebook_view", "ok", item="not a title id!")
    append_at(journal, at(15, 45), "checkout", "Blocked: card 23520001234566 expired")
    batch = build_batch(journal.rows(), "b-1", max_rows=100, zone=CHINA)
    counts = json.loads(json.dumps(batch.body("kiosk-1")))["counts"]
    assert counts == [
        {"date": "2026-11-24", "hour": 23, "event": "checkout",
         "outcome": "blocked_ card ______________ expired", "key": None, "n": 1},
        {"date": "2026-11-24", "hour": 23, "event": "checkout", "outcome": "ok", "key": None,
         "n": 2},
        {"date": "2026-11-24", "hour": 23, "event": "ebook_qr", "outcome": "ok",
         "key": "book:000123", "n": 2},
        {"date": "2026-11-24", "hour": 23, "event": "ebook_view", "outcome": "ok", "key": None,
         "n": 1},
        {"date": "2026-11-25", "hour": 0, "event": "checkout", "outcome": "ok", "key": None,
         "n": 1},
    ]
    assert (batch.first_seq, batch.last_seq, batch.rows) == (1, 7, 7)


def test_nothing_identifying_is_in_a_batch(tmp_path):
    path, key = tmp_path / "journal.sqlite3", tmp_path / "patron.key"
    fill(path, key, days=3, per_day=200, start=START, fast=True)
    with Journal.open_existing(path) as journal:
        rows = list(journal.rows())
        text = json.dumps(build_batch(iter(rows), "b", max_rows=10_000).body("kiosk-1"))
    secrets = {r.patron_hash for r in rows} | {r.item for r in rows if r.kind in
                                                ("checkout", "checkin", "renew")}
    secrets |= set(CARDS) | {"红楼梦", "三体", "seconds", "note", "patron"}
    secrets.discard(None)
    assert len(secrets) > 10
    assert [s for s in secrets if s in text] == []


@pytest.mark.parametrize("raw, sent", [
    ("ok", "ok"), ("Timeout", "timeout"), ("pin_wrong", "pin_wrong"), ("", "unknown"),
    ("卡已过期", "____"), ("x" * 80, "x" * 64), ("  blocked card  ", "blocked card"),
])
def test_outcomes_fit_the_servers_pattern_and_lose_their_digits(raw, sent):
    assert outcome_name(raw) == sent


def test_a_batch_stops_at_its_row_limit_and_at_the_count_limit(tmp_path):
    path, key = tmp_path / "journal.sqlite3", tmp_path / "patron.key"
    written = fill(path, key, days=2, per_day=300, start=START, fast=True)
    with Journal.open_existing(path) as journal:
        batch = build_batch(journal.rows(), "b", max_rows=250)
        assert (batch.first_seq, batch.last_seq, batch.rows) == (1, 250, 250)
        assert sum(n for _k, n in batch.counts) == 250
        # Each distinct (hour, event, outcome, key) is one count row: cap them at 20.
        capped = build_batch(journal.rows(), "b", max_rows=600, max_counts=20)
        assert len(capped.counts) == 20 and capped.rows < 600
        assert sum(n for _k, n in capped.counts) == capped.rows
        # Batch after batch, every row is counted exactly once.
        done, total = 0, Counter()
        while batch := next_batch(journal, done, None, 97):
            assert batch.rows <= 97 and len(batch.counts) <= MAX_COUNTS
            assert batch.first_seq == done + 1
            for k, n in batch.counts:
                total[k.event] += n
            done = batch.last_seq
    assert total == written and done == sum(written.values())


def test_a_pending_batch_is_rebuilt_with_its_id_and_range(journal):
    for minute in range(10):
        append_at(journal, at(10, minute), "session", "ok")
    first = next_batch(journal, 0, None, 4)
    again = next_batch(journal, 0, PendingBatch(first.batch_id, 1, 4), 7)  # more rows per batch now
    assert again == first
    # Accepted and marked already (the crash came before the state file heard): a new batch.
    after = next_batch(journal, 4, PendingBatch(first.batch_id, 1, 4), 4)
    assert (after.first_seq, after.last_seq) == (5, 8) and after.batch_id != first.batch_id
    assert next_batch(journal, 10, None, 4) is None


def test_a_row_of_counted_refusals_counts_as_that_many(journal):
    """Refused download links are journaled a row a minute per reason; the server must still
    hear of every refusal, and of nothing more for a download that worked."""
    append_at(journal, at(15, 10), "ebook_download", "bad signature", detail={"count": 1200})
    append_at(journal, at(15, 11), "ebook_download", "bad signature", detail={"count": 1})
    append_at(journal, at(15, 12), "ebook_download", "ok", item="000123",
              detail={"count": 50})  # a download is one, whatever its detail says
    append_at(journal, at(15, 13), "ebook_download", "expired", detail={"count": "9"})
    batch = build_batch(journal.rows(), "b-1", max_rows=100, zone=CHINA)
    counts = {(c["event"], c["outcome"]): c["n"] for c in batch.body("kiosk-1")["counts"]}
    assert counts == {("ebook_download", "bad signature"): 1201,
                      ("ebook_download", "ok"): 1, ("ebook_download", "expired"): 1}
    assert batch.rows == 4  # the rows, for the seq range


def replay_row(journal, moment, kind, outcome, item="33520000123453"):
    """An offline replay journaled as the app journals it: the core's own row for the ILS
    worker's OfflineReplayed, written with the fields the journal keeper writes."""
    from kiosk.core import events as ev
    from kiosk.core.offline import Offline

    effects = []
    Offline(None, None)._on_OfflineReplayed(  # type: ignore[arg-type]  # neither is read
        ev.OfflineReplayed(kind, item, CARDS[0], outcome, "红楼梦",
                           "Patron 23520001234566 blocked"), 0.0, effects)
    (row,) = effects
    return append_at(journal, moment, row.kind, row.outcome, item=row.item, title=row.title,
                     patron=row.patron, detail=row.detail)


def test_a_replay_is_counted_under_its_own_event_as_replayed_or_refused(journal):
    """Contract 2: the server tells the loans from the returns made offline."""
    append_at(journal, at(2, 0), "checkout", "offline", item="33520000123453", patron=CARDS[0],
              detail={"offline": True})
    replay_row(journal, at(3, 0), "checkout", "sent")
    replay_row(journal, at(3, 1), "checkout", "sent", item="33520000999990")
    replay_row(journal, at(3, 2), "checkin", "sent")
    replay_row(journal, at(3, 3), "checkout", "refused")
    batch = build_batch(journal.rows(), "b-1", max_rows=100, zone=CHINA)
    body = batch.body("kiosk-1")
    cells = {(c["hour"], c["event"], c["outcome"]): c["n"] for c in body["counts"]}
    assert cells == {(10, "checkout", "offline"): 1, (11, "checkout", "replayed"): 2,
                     (11, "checkin", "replayed"): 1, (11, "checkout", "replay_refused"): 1}
    assert all(c["key"] is None for c in body["counts"])
    assert sum(cells.values()) == batch.rows == 5
    text = json.dumps(body, ensure_ascii=False)
    assert "offline_replay" not in text and "红楼梦" not in text and "4566" not in text


@pytest.mark.parametrize("detail, outcome, sent", [
    ({"kind": "lost"}, "sent", ("offline_replay", "sent")),  # a kind this uploader never heard of
    ({}, "refused", ("offline_replay", "refused")),
    (None, "sent", ("offline_replay", "sent")),
    ({"kind": 7}, "sent", ("offline_replay", "sent")),
    ({"kind": "checkin"}, "half done", ("offline_replay", "half done")),  # an unknown outcome
])
def test_a_replay_the_uploader_cannot_read_keeps_the_old_event_and_is_logged(
        journal, caplog, detail, outcome, sent):
    append_at(journal, at(3, 0), "offline_replay", outcome, item="33520000123453",
              detail=detail)
    append_at(journal, at(3, 5), "checkin", "ok", item="33520000123453")
    batch = build_batch(journal.rows(), "b-1", max_rows=100, zone=CHINA)
    cells = {(c["event"], c["outcome"]): c["n"] for c in batch.body("kiosk-1")["counts"]}
    assert cells == {sent: 1, ("checkin", "ok"): 1}  # never lost from the counts
    assert "offline replay row 1" in caplog.text and "counted as offline_replay" in caplog.text


def test_a_row_of_refusals_stands_for_at_most_the_contracts_ceiling(journal, caplog):
    from common.upload_contract import MAX_ROW_WEIGHT

    append_at(journal, at(15, 10), "ebook_download", "malformed",
              detail={"count": MAX_ROW_WEIGHT * 3})
    batch = build_batch(journal.rows(), "b-1", max_rows=100, zone=CHINA)
    assert [n for _k, n in batch.counts] == [MAX_ROW_WEIGHT]
    assert "row 1 holds" in caplog.text
