"""The ILS worker thread against the real test ILS: it keeps serving when the offline store
fails under it (a worn SD card), instead of dying with the kiosk's only link to the ILS."""

import queue
from datetime import datetime, timezone

from kiosk.circulation.ils_worker import IlsWorker
from kiosk.circulation.offline import OfflineStore
from kiosk.core import events as ev
from kiosk.sip2.client import IlsSettings
from kiosk.sip2.test_data import IlsData
from kiosk.sip2.test_server import Sip2TestServer
from tests.conftest import ROOT

CARD, RED = "23520001234566", "33520000123453"


def settings_for(server):
    host, port = server.address
    username, password = server.login
    return IlsSettings(host=host, port=port, username=username, password=password,
                       timeout_s=1.0, retries=1)


def next_of(events, kind, timeout=10.0):
    while True:
        event = events.get(timeout=timeout)
        if isinstance(event, kind):
            return event


def test_a_failing_offline_store_does_not_stop_the_worker(tmp_path):
    store = OfflineStore(tmp_path / "offline.sqlite3", tmp_path / "patron.key")
    store.add("checkout", CARD, RED, datetime.now(timezone.utc))
    store.close()  # every read now fails, as on a card that went read-only or bad
    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    with Sip2TestServer(data) as server:
        events = queue.Queue()
        worker = IlsWorker(settings_for(server), events, store)
        worker.start()
        try:
            assert next_of(events, ev.IlsState).online
            worker.submit(ev.IlsCall(7, "checkout", {"patron_id": CARD, "item_id": RED}))
            answer = next_of(events, ev.IlsAnswered)
        finally:
            worker.close()
    assert (answer.token, answer.error, answer.result.ok) == (7, None, True)
    assert data.loans[RED].patron == CARD
