"""The ILS worker thread against the real test ILS: it keeps serving when the offline store
fails under it (a worn SD card), instead of dying with the kiosk's only link to the ILS."""

import logging
import queue
import time
from dataclasses import replace
from datetime import datetime, timezone

from kiosk.core import events as ev
from kiosk.core.ils_calls import CheckOut
from kiosk.ils.offline_store import OfflineStore
from kiosk.ils.worker import IlsWorker
from kiosk.sip2.client import IlsSettings
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
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
            worker.submit(ev.IlsCall(7, CheckOut(CARD, RED)))
            answer = next_of(events, ev.IlsAnswered)
        finally:
            worker.close()
    assert (answer.token, answer.error, answer.result.ok) == (7, None, True)
    assert data.loans[RED].patron == CARD


def test_an_outcome_the_ils_cannot_tell_is_answered_unknown_not_offline():
    """The checkout reaches the ILS, the connection drops before its reply and no new one
    can be made: the worker answers unknown (staff check it), never offline (which would let
    the core accept it again offline and lend the book twice)."""
    from tests.ils_proxy import IlsProxy, ProxyFault

    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    with Sip2TestServer(data) as server, IlsProxy(server.address) as proxy:
        host, port = proxy.address
        settings = replace(settings_for(server), host=host, port=port)
        events = queue.Queue()
        worker = IlsWorker(settings, events, None)
        worker.start()
        try:
            assert next_of(events, ev.IlsState).online
            proxy.refuse_connections()
            proxy.fault_after("11", ProxyFault.DROP)
            worker.submit(ev.IlsCall(8, CheckOut(CARD, RED)))
            answer = next_of(events, ev.IlsAnswered)
        finally:
            worker.close()
    assert (answer.token, answer.unknown, answer.offline, answer.result) == (8, True, False, None)
    assert data.loans[RED].patron == CARD
    assert [m.code for m in server.history].count("11") == 1


def test_a_server_that_closes_idle_links_is_reconnected_quietly(caplog):
    """The server drops a link idle for 0.2 s; the heartbeat comes every 0.5 s and finds it
    closed each time: the worker connects again at INFO, stays online, warns nothing."""
    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    with Sip2TestServer(data, idle_timeout_s=0.2) as server:
        events = queue.Queue()
        worker = IlsWorker(replace(settings_for(server), heartbeat_s=0.5), events, None)
        with caplog.at_level(logging.INFO):
            worker.start()
            try:
                assert next_of(events, ev.IlsState).online
                deadline = time.monotonic() + 30
                while server.idle_closed < 3 or _logins(server) < 4:
                    assert time.monotonic() < deadline, "the server never closed a link"
                    time.sleep(0.05)
            finally:
                worker.close()
    assert events.empty() or not any(isinstance(e, ev.IlsState) and not e.online
                                     for e in list(events.queue))
    noisy = [r.getMessage() for r in caplog.records
             if r.levelno >= logging.WARNING and r.name.startswith("kiosk")]
    assert noisy == []
    assert any("closed the idle connection" in r.getMessage() for r in caplog.records)


def _logins(server):
    return [m.code for m in server.history].count("93")


def test_the_heartbeat_comes_well_inside_a_common_60_s_idle_timeout():
    from kiosk.config import IlsSection

    assert IlsSettings().heartbeat_s == IlsSection().heartbeat_s == 45.0


def test_every_request_the_core_can_make_has_one_handler_and_others_fail_loudly():
    """The worker maps request types to client calls in one table: a request the core can make
    without a handler fails here, and one outside the table raises instead of being guessed at."""
    from typing import get_args

    import pytest

    from kiosk.core.ils_calls import ILS_REQUESTS, IlsRequest
    from kiosk.ils.worker import HANDLERS

    assert set(get_args(IlsRequest)) == set(ILS_REQUESTS) == set(HANDLERS)

    class Connected:
        connected = True

        def __init__(self, settings):
            pass

    worker = IlsWorker(IlsSettings(), queue.Queue(), None, client_factory=Connected)
    with pytest.raises(TypeError, match="no handler for str"):
        worker._carry_out(ev.IlsCall(1, "checkout"))
