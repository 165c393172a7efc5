"""Replaying the offline store into the project's SIP2 test ILS on 127.0.0.1, through the real
client: order, original times, refusals, the ILS going away half-way, and never twice."""

import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.ils.offline_store import MAX_UNREADABLE, OfflineStore, replay
from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.codec import sip_date
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_ils import IMPLEMENTED
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT

LI = "23520001234566"
WANG = "23520009876541"
T0 = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
BOOKS = [f"3352000012{n:04d}" for n in range(40)]
LIBRARY = """
[library]
institution = "LL"
name = "醴陵市图书馆"
[[account]]
username = "kiosk"
password = "secret"
[[patron]]
barcode = "23520001234566"
name = "李明"
[[patron]]
barcode = "23520009876541"
name = "王芳"
""" + "".join(f'[[item]]\nbarcode = "{b}"\ntitle = "书 {n}"\n' for n, b in enumerate(BOOKS))


def library(extra=""):
    return IlsData.from_toml(LIBRARY + extra)


@pytest.fixture
def store(tmp_path):
    with OfflineStore(tmp_path / "offline.sqlite3", tmp_path / "patron.key") as s:
        yield s


def serve(data, **options):
    return Sip2TestServer(data, **options).start()


@pytest.fixture
def server():
    ils = serve(library())
    yield ils
    ils.stop()


def client_for(server):
    host, port = server.address
    client = Sip2Client(IlsSettings(host=host, port=port, username="kiosk", password="secret",
                                    institution="LL", timeout_s=5, retries=0))
    client.connect()
    return client


def sent(server, code):
    """The items of every request `code` the ILS received, in order."""
    return [m.first("AB") for m in server.history if m.code == code]


def run(store, server, client=None):
    results = []
    count = replay(store, client or client_for(server), results.append)
    assert count == len(results)
    return results


def test_pending_transactions_reach_the_ils_in_order_with_their_time_and_no_block(store, tmp_path):
    ils = serve(library(f'[[loan]]\npatron = "{LI}"\nitem = "{BOOKS[1]}"\ndue_in_days = 3\n'))
    try:
        # Li returns book 1, Wang borrows it at once, Li borrows book 2: only this order works.
        store.add("checkin", None, BOOKS[1], T0)
        store.add("checkout", WANG, BOOKS[1], T0 + timedelta(minutes=1))
        store.add("checkout", LI, BOOKS[2], T0 + timedelta(minutes=2), 17)
        results = run(store, ils)
        assert [(r.transaction.kind, r.transaction.item_id, r.outcome) for r in results] == [
            ("checkin", BOOKS[1], "sent"), ("checkout", BOOKS[1], "sent"),
            ("checkout", BOOKS[2], "sent")]
        assert results[2].title == "书 2" and results[2].transaction.patron_id == LI
        requests = [m for m in ils.history if m.code in ("09", "11")]
        assert [(m.code, m.first("AB")) for m in requests] == [
            ("09", BOOKS[1]), ("11", BOOKS[1]), ("11", BOOKS[2])]
        assert all(m.get("no_block") == "Y" for m in requests)
        assert [m.get("transaction_date") for m in requests] == [
            sip_date(T0 + timedelta(minutes=n)) for n in range(3)]
        loans = ils.data.loans
        assert (loans[BOOKS[1]].patron, loans[BOOKS[2]].patron) == (WANG, LI)
        # Due from the day it was borrowed, not the day the ILS heard of it.
        assert loans[BOOKS[2]].due == T0.astimezone().date() + timedelta(days=30)
        assert store.pending() == [] and store.refused() == []
        on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir()
                           if p.name.startswith("offline"))
        assert LI.encode() not in on_disk and WANG.encode() not in on_disk
    finally:
        ils.stop()


def test_what_the_ils_refuses_is_kept_for_staff_with_its_reason(store):
    extra = (f'[[loan]]\npatron = "{WANG}"\nitem = "{BOOKS[3]}"\n'  # lent at the desk meanwhile
             f'[[patron]]\nbarcode = "23520005555555"\nname = "赵"\nblocks = ["charge_denied"]\n')
    data = library(extra)
    data.items[BOOKS[4]].on_hold_for = WANG  # a hold placed while the ILS was away
    ils = serve(data)
    try:
        store.add("checkout", LI, BOOKS[3], T0)
        store.add("checkout", "23520000000000", BOOKS[5], T0 + timedelta(seconds=1))
        store.add("checkin", None, BOOKS[6], T0 + timedelta(seconds=2), title="三国演义")
        store.add("checkout", LI, BOOKS[4], T0 + timedelta(seconds=3))
        store.add("checkout", "23520005555555", BOOKS[7], T0 + timedelta(seconds=4))
        results = run(store, ils)
        assert [r.outcome for r in results] == ["refused", "refused", "refused", "sent", "sent"]
        refused = store.refused()
        assert [(tx.item_id, tx.message, tx.patron_masked) for tx in refused] == [
            (BOOKS[3], "这本书已被借出 This item is on loan to another patron", "**********4566"),
            (BOOKS[5], "读者证无效 Unknown patron", "**********0000"),
            (BOOKS[6], "此书未被借出 This item was not on loan", ""),
        ]
        assert [tx.title for tx in refused] == ["书 3", "书 5", "三国演义"]
        # This ILS honours what the kiosk accepted offline (SIP2's no-block) over a new hold or
        # block: the ILS decides, the kiosk only reports its answer.
        assert ils.data.loans[BOOKS[4]].patron == LI
        assert ils.data.loans[BOOKS[7]].patron == "23520005555555"
        store.acknowledge(refused[0].id)
        assert [tx.item_id for tx in store.refused()] == [BOOKS[5], BOOKS[6]]
    finally:
        ils.stop()


def test_the_ils_going_away_half_way_leaves_the_rest_for_later_in_order(store, server):
    for n in range(6):
        store.add("checkout", LI, BOOKS[n], T0 + timedelta(seconds=n))
    results = []

    def settled(done):
        results.append(done)
        if len(results) == 2:
            server.faults.go_away()

    client = client_for(server)
    assert replay(store, client, settled) == 2
    assert not client.connected
    assert [tx.item_id for tx in store.pending()] == BOOKS[2:6]
    assert store.pending()[0].state == "sending"  # it may have left: asked about next time
    server.faults.come_back()
    later = run(store, server)
    assert [r.transaction.item_id for r in later] == BOOKS[2:6]
    assert all(r.outcome == "sent" for r in later)
    assert sent(server, "11") == BOOKS[:6]  # each once, in order
    assert store.total_pending() == 0


@pytest.mark.parametrize("supported", [IMPLEMENTED, IMPLEMENTED - {"63"}],
                         ids=["patron-information", "item-information-only"])
def test_one_in_flight_when_the_kiosk_stopped_is_never_sent_twice(store, supported):
    ils = serve(library(f'[[loan]]\npatron = "{LI}"\nitem = "{BOOKS[9]}"\n'),
                supported=supported)
    try:
        client = client_for(ils)
        done = store.add("checkout", LI, BOOKS[0], T0)
        not_done = store.add("checkout", LI, BOOKS[1], T0 + timedelta(seconds=1))
        returned = store.add("checkin", None, BOOKS[9], T0 + timedelta(seconds=2))
        # The kiosk marked all three, sent two, and stopped before it could settle them.
        for tx in (done, not_done, returned):
            store.mark_sending(tx)
        client.checkout(LI, BOOKS[0], no_block=True, when=T0)
        client.checkin(BOOKS[9], no_block=True, when=T0)
        results = {r.transaction.id: r for r in run(store, ils)}
        assert (results[done].outcome, results[done].recovered) == ("sent", True)
        assert (results[not_done].outcome, results[not_done].recovered) == ("sent", False)
        assert (results[returned].outcome, results[returned].recovered) == ("sent", True)
        assert sent(ils, "11").count(BOOKS[0]) == 1 and sent(ils, "11").count(BOOKS[1]) == 1
        assert sent(ils, "09").count(BOOKS[9]) == 1
    finally:
        ils.stop()


def test_a_checkin_in_flight_counts_as_done_only_when_the_ils_says_the_book_is_back(store):
    """An ILS answers "01 other" for an item it does not know, "13 missing" for a lost one:
    neither says the return reached it, so the checkin is sent again and its answer decides."""
    ils = serve(library())
    try:
        ils.data.items[BOOKS[3]].status = "missing"
        tx = store.add("checkin", None, BOOKS[3], T0)
        store.mark_sending(tx)
        (result,) = run(store, ils)
        assert sent(ils, "09").count(BOOKS[3]) == 1  # asked, then sent: not taken as done
        assert result.recovered is False
    finally:
        ils.stop()


def test_replies_that_make_no_sense_stop_the_replay_then_go_to_staff(store, server):
    store.add("checkout", LI, BOOKS[0], T0)
    store.add("checkout", LI, BOOKS[1], T0 + timedelta(seconds=1))
    server.faults.next("garble", code="11")  # carried out; its reply is lost: asked with 63,
    server.faults.next("garble", code="63", times=MAX_UNREADABLE)  # which never answers
    for _ in range(MAX_UNREADABLE - 1):
        assert run(store, server) == []
        assert store.total_pending() == 2
    first, second = run(store, server)
    assert first.outcome == "refused" and "could not be understood" in first.message
    assert second.outcome == "sent"
    assert [tx.item_id for tx in store.refused()] == [BOOKS[0]]


def test_replays_killed_at_random_moments_send_each_transaction_once(store, server, tmp_path):
    """SIGKILL the replaying process at random moments; every book reaches the ILS exactly once."""
    for n, book in enumerate(BOOKS):
        store.add("checkout", LI if n % 2 else WANG, book, T0 + timedelta(seconds=n))
    rng = random.Random(5)
    reported = []
    for _ in range(8):
        replayer = subprocess.Popen(
            [sys.executable, "-m", "tests.offline_replayer", str(store.path),
             str(tmp_path / "patron.key"), str(server.address[1])],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert replayer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.1))
        replayer.send_signal(signal.SIGKILL)
        reported += replayer.stdout.read().split("\n")[:-1]
        replayer.wait()
    assert reported  # some were settled by the processes that were killed
    run(store, server)
    assert sorted(sent(server, "11")) == sorted(BOOKS)
    assert store.total_pending() == 0 and store.refused() == []
    assert {loan.item for loan in server.data.loans.values()} == set(BOOKS)
