"""The offline store on real SQLite files: durable, ordered, private once settled, crash-proof."""

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.ils.offline_store import OfflineStore, OfflineStoreError
from kiosk.journal import Journal
from tests.conftest import ROOT

CARD = "23520001234566"
OTHER = "23520009876541"
T0 = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    with OfflineStore(tmp_path / "offline.sqlite3", tmp_path / "patron.key") as s:
        yield s


def files_bytes(tmp_path):
    return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("offline"))


def test_transactions_come_back_whole_and_oldest_first(store):
    later = store.add("checkin", None, "33520000123453", T0 + timedelta(minutes=5), 12)
    first = store.add("checkout", f" {CARD} ", "33520000123461", T0, 11, title="红楼梦")
    pending = store.pending()
    assert [tx.id for tx in pending] == [first, later]
    checkout, checkin = pending
    assert (checkout.kind, checkout.patron_id, checkout.patron_masked) == \
        ("checkout", CARD, "**********4566")
    assert (checkout.item_id, checkout.title, checkout.when_utc, checkout.journal_seq) == \
        ("33520000123461", "红楼梦", T0, 11)
    assert (checkout.state, checkout.message, checkout.settled_utc, checkout.attempts) == \
        ("pending", "", None, 0)
    assert (checkin.patron_id, checkin.patron_masked, checkin.title) == (None, "", "")
    # A local time is kept as the same moment in UTC.
    local = T0.astimezone(timezone(timedelta(hours=8)))
    tx = store.add("checkin", None, "33520000123479", local)
    assert store.pending()[1].id == tx and store.pending()[1].when_utc == T0


def test_the_store_is_durable_by_configuration(store):
    db = store._db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_counts_follow_what_is_not_yet_settled(store):
    a = store.add("checkout", CARD, "item-1", T0)
    store.add("checkout", CARD, "item-2", T0)
    store.add("checkout", OTHER, "item-3", T0)
    store.add("checkin", None, "item-4", T0)
    assert (store.counts(CARD), store.counts(OTHER), store.total_pending()) == (2, 1, 4)
    store.mark_sending(a)  # in flight is still not settled
    assert store.counts(CARD) == 2 and store.pending()[0].state == "sending"
    assert store.pending()[0].attempts == 1
    store.settle(a, "sent")
    assert (store.counts(CARD), store.total_pending(), store.total_refused()) == (1, 3, 0)


def test_settling_wipes_the_patron_number_from_every_byte(store, tmp_path):
    ids = [store.add("checkout", CARD, f"item-{n}", T0 + timedelta(seconds=n)) for n in range(40)]
    ids.append(store.add("checkout", OTHER, "item-x", T0))
    assert CARD.encode() in files_bytes(tmp_path)  # the test can see a number when it is there
    for n, tx in enumerate(ids):
        store.settle(tx, "sent" if n % 2 else "refused", "on hold")
    on_disk = files_bytes(tmp_path)
    assert CARD.encode() not in on_disk and OTHER.encode() not in on_disk
    with sqlite3.connect(store.path) as db:
        hashes = dict(db.execute("SELECT item, patron_hash FROM transactions"))
    # The journal's keyed hash, with the same key: staff can match the two files, nobody else.
    with Journal.open(tmp_path / "journal.sqlite3", tmp_path / "patron.key") as journal:
        journal.append("checkout", "offline", item="item-1", patron=CARD)
        assert next(journal.rows()).patron_hash == hashes["item-1"] != hashes["item-x"]


def test_refusals_wait_for_staff_until_acknowledged(store):
    sent = store.add("checkout", CARD, "item-1", T0)
    refused = store.add("checkout", CARD, "item-2", T0 + timedelta(seconds=1))
    store.settle(sent, "sent")
    store.settle(refused, "refused", "Item on hold for another patron", title="红楼梦")
    [tx] = store.refused()
    assert (tx.id, tx.state, tx.message, tx.title, tx.patron_id, tx.patron_masked) == \
        (refused, "refused", "Item on hold for another patron", "红楼梦", None, "**********4566")
    assert tx.settled_utc is not None and not tx.acknowledged
    assert store.total_refused() == 1
    store.acknowledge(refused)
    store.acknowledge(refused)  # twice is harmless (two staff pressing at once)
    assert store.refused() == [] and store.total_refused() == 0
    with pytest.raises(OfflineStoreError, match="not one the ILS refused"):
        store.acknowledge(sent)
    with pytest.raises(OfflineStoreError, match="not one the ILS refused"):
        store.acknowledge(999)
    with pytest.raises(OfflineStoreError, match="already sent"):
        store.settle(sent, "refused")
    with pytest.raises(OfflineStoreError, match="no offline transaction 999"):
        store.settle(999, "sent")


def test_a_title_from_the_ils_fills_in_only_what_was_unknown(store):
    a = store.add("checkin", None, "item-1", T0, title="红楼梦")
    b = store.add("checkin", None, "item-2", T0)
    store.settle(a, "refused", "x")
    store.settle(b, "refused", "y", title="三国演义")
    assert [tx.title for tx in store.refused()] == ["红楼梦", "三国演义"]


@pytest.mark.parametrize("args, message", [
    (("renew", CARD, "item", T0), "kind must be one of"),
    (("checkout", None, "item", T0), "needs the patron's number"),
    (("checkout", "  ", "item", T0), "needs the patron's number"),
    (("checkin", None, " ", T0), "needs the item's barcode"),
    (("checkin", None, "item", datetime(2026, 11, 24, 6, 0)), "time zone"),
])
def test_bad_transactions_are_refused_before_they_are_kept(store, args, message):
    with pytest.raises(ValueError, match=message):
        store.add(*args)
    assert store.total_pending() == 0
    with pytest.raises(ValueError, match="'sent' or 'refused'"):
        store.settle(1, "maybe")


@pytest.mark.parametrize("content, message", [
    (b"this is a text file, not a database" * 100, "not a readable offline store"),
    ("tables", "holds other tables"),
    ("newer", r"made by a newer kiosk \(offline store version 99"),
    ("journal", "another database"),
])
def test_foreign_files_are_refused_and_left_exactly_as_they_were(tmp_path, content, message):
    path = tmp_path / "offline.sqlite3"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "journal":
        Journal.open(path, tmp_path / "patron.key").close()
    elif content == "newer":
        OfflineStore(path, tmp_path / "patron.key").close()
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = 99")
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE books (id)")
    before = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    wal_before = wal.read_bytes() if wal.exists() else None
    with pytest.raises(OfflineStoreError, match=message):
        OfflineStore(path, tmp_path / "patron.key")
    assert path.read_bytes() == before
    assert (wal.read_bytes() if wal.exists() else None) == wal_before


def test_a_reader_cannot_write_and_a_missing_file_is_named(store, tmp_path):
    tx = store.add("checkout", CARD, "item-1", T0)
    store.settle(tx, "refused", "blocked")
    with OfflineStore(store.path, create=False) as reader:
        assert reader.total_refused() == 1
        with pytest.raises(OfflineStoreError, match="opened for reading"):
            reader.add("checkin", None, "item-2", T0)
        reader.acknowledge(tx)  # staff acknowledge from the status side too
    assert store.refused() == []
    with pytest.raises(OfflineStoreError, match="no offline store here"):
        OfflineStore(tmp_path / "nowhere.sqlite3", create=False)


def test_a_damaged_patron_key_stops_the_store(tmp_path):
    key = tmp_path / "patron.key"
    key.write_text("not hex\n")
    with pytest.raises(OfflineStoreError, match="patron key unreadable"):
        OfflineStore(tmp_path / "offline.sqlite3", key)


def test_the_default_key_is_the_journals_beside_the_file(tmp_path):
    OfflineStore(tmp_path / "offline.sqlite3").close()
    assert (tmp_path / "patron.key").stat().st_mode & 0o777 == 0o600


def test_two_threads_share_one_store(store):
    def add(tag):
        for n in range(40):
            store.add("checkout", CARD, f"{tag}-{n}", T0)
            store.counts(CARD)
    threads = [threading.Thread(target=add, args=(tag,)) for tag in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.total_pending() == 80 == len({tx.item_id for tx in store.pending()})


def test_writers_killed_mid_write_lose_no_reported_step(tmp_path):
    """SIGKILL at random moments, 20 times: every add and settle a writer reported is kept."""
    rng = random.Random(51)
    added: dict[int, str] = {}
    settled: set[int] = set()
    for round_no in range(20):
        writer = subprocess.Popen(
            [sys.executable, "-m", "tests.offline_writer", str(tmp_path / "offline.sqlite3"),
             str(tmp_path / "patron.key"), f"r{round_no}"],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        first = writer.stdout.readline()  # running, and past opening the file
        time.sleep(rng.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        rest = writer.stdout.read()
        writer.wait()
        for line in (first + rest).split("\n")[:-1]:  # the kill may cut the last line short
            step, tx, *item = line.split()
            if step == "add":
                added[int(tx)] = item[0]
            else:
                settled.add(int(tx))
    assert len(added) > 20 and settled
    with OfflineStore(tmp_path / "offline.sqlite3", tmp_path / "patron.key") as store:
        pending = {tx.id: tx for tx in store.pending()}
        refused = {tx.id: tx for tx in store.refused()}
        assert store._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert all(pending.get(tx) or refused.get(tx) for tx in added)
    assert all(refused[tx].item_id == added[tx] for tx in settled)
    assert all(tx in refused or pending[tx].item_id == item for tx, item in added.items())


def test_an_item_the_ils_refused_lately_is_not_taken_offline(tmp_path):
    from kiosk.ils.offline_store import OfflineRefused
    with OfflineStore(tmp_path / "offline.sqlite3", tmp_path / "patron.key",
                      refused_days=30) as store:
        store.remember_refusal("33520000123453", "on_hold")
        with pytest.raises(OfflineRefused) as refused:
            store.add("checkout", CARD, "33520000123453", T0)
        assert refused.value.reason == "on_hold" and store.total_pending() == 0
        store.add("checkin", None, "33520000123453", T0)  # a return is always taken
        store.add("checkout", CARD, "33520000123461", T0)  # another book is fine
        assert store.total_pending() == 2
    with OfflineStore(tmp_path / "offline.sqlite3", tmp_path / "patron.key",
                      refused_days=0) as store:
        store.add("checkout", CARD, "33520000123453", T0)  # 0: refusals are not kept


def test_refusals_older_than_the_window_are_forgotten(tmp_path):
    path = tmp_path / "offline.sqlite3"
    with OfflineStore(path, tmp_path / "patron.key", refused_days=30) as store:
        store.remember_refusal("33520000123453", "not_for_loan")
    db = sqlite3.connect(path)
    db.execute("UPDATE refused_items SET refused_utc = '2020-01-01T00:00:00.000Z'")
    db.commit()
    db.close()
    with OfflineStore(path, tmp_path / "patron.key", refused_days=30) as store:
        store.add("checkout", CARD, "33520000123453", T0)


def test_a_store_from_before_refusals_were_kept_gains_them_and_keeps_its_rows(tmp_path):
    """Version 1 stores are on kiosks in the field; they are updated in place."""
    path = tmp_path / "offline.sqlite3"
    with OfflineStore(path, tmp_path / "patron.key") as store:
        store.add("checkout", CARD, "33520000123453", T0)
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE refused_items; PRAGMA user_version = 1;")
    db.close()
    with OfflineStore(path, tmp_path / "patron.key", refused_days=30) as store:
        store.remember_refusal("33520000123461", "on_loan")
        assert store.total_pending() == 1
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
