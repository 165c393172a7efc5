"""A reply lost after the ILS lent the book, through the whole kiosk: a proxy between kiosk and
test ILS breaks the reply to the checkout once the ILS has acted. The patron, the journal, the
ILS and the tag's alarm must agree: the kiosk asks the ILS and says the truth, or, when it
cannot ask, says it does not know, leaves the alarm on, and settles it later by itself."""

import pytest

from kiosk.core.events import Screen
from kiosk.demo import hooks
from kiosk.journal import Journal
from kiosk.runtime import RECONCILE_EVERY_S
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.ils_proxy import IlsProxy, ProxyFault
from tests.runtime_kiosk import identified, ils_section, pump_until, started

CARD = "23520001234566"
RED, RED_TAG = "33520000123453", "E004015000000001"
ON_LOAN, ON_SHELF = 0xC2, 0x07
DEMO = ROOT / "kiosk" / "demo" / "ils.toml"


@pytest.fixture
def ils():
    with Sip2TestServer(IlsData.load(DEMO)) as server:
        yield server


@pytest.fixture
def proxy(ils):
    with IlsProxy(ils.address) as between:
        yield between


@pytest.fixture
def runtime(tmp_path, ils, proxy):
    runtime = started(tmp_path, ils_section(ils, via=proxy.address))
    yield runtime
    runtime.close()


def borrow_red(runtime):
    hooks.sim_scanner(runtime.drivers).scan(CARD)
    pump_until(runtime, lambda: runtime.view.circulation.step == "checking")
    identified(runtime, CARD, IlsData.load(DEMO))
    assert runtime.view.screen is Screen.BORROW
    hooks.sim_pad(runtime.drivers).place(RED_TAG)
    pump_until(runtime, lambda: runtime.view.circulation.lines and not any(
        line.status == "busy" for line in runtime.view.circulation.lines), timeout=30)
    (line,) = runtime.view.circulation.lines
    return line


def journal(runtime):
    with Journal.open_existing(runtime.config.journal_path) as reader:
        return list(reader.rows()), reader.open_intents()


@pytest.mark.parametrize("fault", list(ProxyFault))
def test_a_broken_reply_after_the_ils_lent_the_book_is_asked_about_and_told_truly(
        runtime, ils, proxy, fault):
    proxy.fault_after("11", fault)
    line = borrow_red(runtime)
    assert proxy.injected >= 1  # the fault really replaced what the ILS said
    assert ils.data.loans[RED].patron == CARD  # lent once
    assert (line.status, line.due) == ("ok", ils.data.loans[RED].due.isoformat())
    # Disarmed, as the ILS lent it.
    assert hooks.sim_pad(runtime.drivers).tags[RED_TAG].afi == ON_LOAN
    rows, still_open = journal(runtime)
    assert [(r.kind, r.outcome) for r in rows if r.item == RED] == [("intent", "checkout"),
                                                                   ("checkout", "ok")]
    assert still_open == []
    assert sum(1 for m in ils.history if m.code == "11") == 1  # never sent twice


def test_when_the_ils_cannot_be_asked_the_patron_is_told_it_is_unknown_and_it_settles_later(
        runtime, ils, proxy):
    proxy.fault_after("11", ProxyFault.DROP)
    proxy.refuse_connections()  # after the drop, the kiosk cannot reach the ILS to ask
    line = borrow_red(runtime)
    assert ils.data.loans[RED].patron == CARD  # the ILS did lend it
    assert (line.status, line.reason) == ("staff", "unknown")  # "结果未知。离开前请找工作人员。"
    assert hooks.sim_pad(runtime.drivers).tags[RED_TAG].afi == ON_SHELF  # the alarm stays on
    rows, still_open = journal(runtime)
    assert [(r.kind, r.outcome) for r in rows if r.item == RED] == [("intent", "checkout"),
                                                                   ("checkout", "unknown")]
    assert [r.item for r in still_open] == [RED]

    proxy.accept_connections()
    pump_until(runtime, lambda: runtime.ils.online, timeout=60)
    runtime.clock.advance(RECONCILE_EVERY_S)
    pump_until(runtime, lambda: not journal(runtime)[1], timeout=30)
    rows, _ = journal(runtime)
    settled = [(r.kind, r.outcome, (r.detail or {}).get("ils")) for r in rows if r.item == RED]
    assert settled[-1] == ("checkout", "reconciled", "charged")
