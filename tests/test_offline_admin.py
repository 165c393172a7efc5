"""Staff mark what the ILS refused as dealt with: the core event, and the runtime's effect
against a real offline store, with the test ILS on 127.0.0.1 configured."""

from datetime import datetime, timezone

import pytest

from kiosk import config as config_module
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.pin import hash_pin
from kiosk.core.session import Session
from kiosk.core.session_view import Settings
from kiosk.ils.offline_store import open_for
from kiosk.journal import Journal
from kiosk.runtime import Runtime, SteerableClock
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.runtime_kiosk import ils_section, pump_until
from tests.staff_pin import enter_pin, submit_pin

PIN = "2580"
CARD = "23520001234566"
T0 = datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)


def test_only_staff_on_the_admin_screen_can_acknowledge():
    session = Session(Settings(pin_hash=hash_pin(PIN, iterations=100_000)), 0.0)
    assert session.handle(ev.AcknowledgeOffline(7), 1.0) == []  # a patron cannot
    session.handle(ev.AdminGesture(), 1.0)
    submit_pin(session, PIN, 2.0)
    assert session.view.screen is Screen.ADMIN
    assert session.handle(ev.AcknowledgeOffline(7), 3.0) == [
        ev.JournalAppend("admin", "offline_acknowledged", detail={"offline_id": 7}),
        ev.OfflineAcknowledge(7)]


@pytest.fixture
def runtime(tmp_path):
    data = IlsData.from_toml('[library]\ninstitution = "LL"\n'
                             '[[account]]\nusername = "kiosk"\npassword = "secret"\n')
    with Sip2TestServer(data) as server:
        path = tmp_path / "kiosk.toml"
        path.write_text(f"""
[kiosk]
data_dir = "{tmp_path}"
[admin]
pin_hash = "{hash_pin(PIN, iterations=100_000)}"
{ils_section(server)}
[circulation]
offline = true
""", encoding="utf-8")
        config = config_module.load(path)
        # Settled before the ILS worker starts, which would otherwise replay them itself.
        with open_for(config) as store:
            first = store.add("checkout", CARD, "33520000123453", T0)
            second = store.add("checkin", None, "33520000123461", T0)
            store.settle(first, "refused", "这本书已被借出 This item is on loan to another patron")
            store.settle(second, "refused")
        runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                          clock=SteerableClock())
        runtime.start()
        yield runtime
        runtime.close()



def test_acknowledging_marks_the_store_and_shows_the_list_again(runtime):
    store = runtime.offline_store
    first, second = (tx.id for tx in store.refused())
    runtime.send(ev.AdminGesture())
    enter_pin(runtime, PIN)
    pump_until(runtime, lambda: runtime.view.status is not None)
    assert [tx.id for tx in runtime.view.status.offline_refused] == [first, second]
    runtime.send(ev.AcknowledgeOffline(first))
    pump_until(runtime, lambda: len(runtime.view.status.offline_refused) == 1)
    assert [tx.id for tx in store.refused()] == [second]
    offline = next(c for c in runtime.view.status.checks if c.name == "offline")
    assert offline.ok is False and offline.summary.args["refused"] == 1
    runtime.send(ev.AcknowledgeOffline(first))  # twice (a double tap): harmless
    runtime.send(ev.AcknowledgeOffline(999))  # unknown: logged, nothing breaks
    runtime.send(ev.AcknowledgeOffline(second))
    pump_until(runtime, lambda: runtime.view.status.offline_refused == ())
    with Journal.open_existing(runtime.config.journal_path) as journal:
        acknowledged = [row.detail["offline_id"] for row in journal.rows()
                        if row.outcome == "offline_acknowledged"]
    assert acknowledged == [first, first, 999, second]
