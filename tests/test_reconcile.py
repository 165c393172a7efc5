"""Intents left open, asked about through the ILS worker against the real test ILS: what the ILS
shows decides, and what it cannot tell stays open for staff."""

import queue

import pytest

from kiosk.core import events as ev
from kiosk.core.ils_calls import LookUpItem
from kiosk.ils.reconcile import DONE, NOT_DONE, OpenIntent, Reconciled, reconcile, verdict
from kiosk.ils.worker import IlsWorker
from kiosk.sip2.client import Sip2Client
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.test_ils_worker import CARD, RED, next_of, settings_for

ALIVE, MISSING, NOBODY_KNOWS = "33520000456788", "33520000789014", "39999999999999"


@pytest.mark.parametrize("operation, circulation, due, known, expected", [
    ("checkout", "charged", "", True, DONE),
    ("checkout", "available", "", True, NOT_DONE),
    ("checkout", "in_transit", "", True, NOT_DONE),
    ("checkout", "missing", "", True, None),
    ("checkout", "other", "", False, None),  # an item the ILS does not know
    ("checkin", "available", "", True, DONE),
    ("checkin", "waiting_on_hold_shelf", "", True, DONE),
    ("checkin", "waiting_reshelving", "", True, DONE),
    ("checkin", "charged", "", True, NOT_DONE),
    ("checkin", "lost", "", True, None),
    ("renew", "charged", "2026-12-31", True, DONE),
    ("renew", "charged", "2026-12-01", True, NOT_DONE),
    ("renew", "charged", "", True, None),
    ("renew", "available", "2026-12-31", True, None),
])
def test_verdicts_follow_what_the_ils_shows(operation, circulation, due, known, expected):
    intent = OpenIntent(1, operation, RED, due_before="2026-12-01")
    assert verdict(intent, circulation, due, known) == expected


def test_the_test_ils_answers_each_kind_of_intent():
    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    with Sip2TestServer(data) as server:
        client = Sip2Client(settings_for(server))
        client.connect()
        assert client.checkout(CARD, RED).ok  # the ILS did it; the kiosk died before the row
        data.items[MISSING].status, data.items[MISSING].on_hold_for = "missing", ""
        found: list[Reconciled] = []
        intents = [OpenIntent(1, "checkout", RED), OpenIntent(2, "checkout", ALIVE),
                   OpenIntent(3, "checkin", RED), OpenIntent(4, "checkout", MISSING),
                   OpenIntent(5, "checkout", NOBODY_KNOWS)]
        assert reconcile(intents, client, found.append) == 3
        client.close()
    assert [(r.intent.seq, r.outcome) for r in found] == [
        (1, DONE), (2, NOT_DONE), (3, NOT_DONE), (4, None), (5, None)]
    assert found[0].ils_state == "charged" and found[0].due  # the due date, for the row
    assert found[4].ils_state == "unknown item"


def test_the_worker_reconciles_when_the_ils_is_there_and_waits_when_not():
    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    with Sip2TestServer(data) as server:
        events = queue.Queue()
        worker = IlsWorker(settings_for(server), events, None)
        worker.start()
        try:
            assert next_of(events, ev.IlsState).online
            worker.reconcile([OpenIntent(9, "checkin", RED)])
            result = next_of(events, Reconciled)
            server.faults.go_away()
            worker.reconcile([OpenIntent(10, "checkin", RED)])
            gone = next_of(events, ev.IlsState)
            worker.submit(ev.IlsCall(1, LookUpItem(RED)))
            answered = next_of(events, ev.IlsAnswered)  # the queue moved on past it
        finally:
            worker.close()
        left = []
        while not events.empty():
            left.append(events.get())
    assert (result.intent.seq, result.outcome) == (9, DONE)  # red is on the shelf
    assert not gone.online and answered.offline
    assert not any(isinstance(event, Reconciled) for event in left)  # 10 stays open
