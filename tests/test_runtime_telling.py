"""What the patron is told reaches the runtime's `on_tell` listeners (the sound and voice), in
order, once each: a real runtime against the real test ILS on 127.0.0.1 and the simulated pad
and scanner, without a screen."""

import pytest

from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.demo import hooks
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.runtime_kiosk import identified, ils_section, pump_until, started

DEMO = ROOT / "kiosk" / "demo" / "ils.toml"
CARD, BLOCKED = "23520001234566", "23520005555552"
HOLD_TAG, HELD = "E004015000000003", "33520000789014"  # 三体, on hold for 李芳


@pytest.fixture
def runtime(tmp_path):
    with Sip2TestServer(IlsData.load(DEMO)) as server:
        runtime = started(tmp_path, ils_section(server))
        runtime.told = []
        runtime.on_tell.append(runtime.told.append)
        yield runtime
        runtime.close()


def test_a_blocked_card_a_held_book_and_the_goodbye_are_told(runtime):
    scanner, pad = hooks.sim_scanner(runtime.drivers), hooks.sim_pad(runtime.drivers)
    scanner.scan(BLOCKED)
    identified(runtime, BLOCKED, IlsData.load(DEMO))
    pump_until(runtime, lambda: runtime.view.screen is Screen.BLOCKED)
    assert runtime.told == [ev.BorrowingBlocked(("charge_denied", "excessive_fines"), "35.50",
                                                "CNY", None)]
    runtime.send(ev.EndSession())
    assert runtime.told[-1] == ev.SessionClosed("ok", take_card=True)
    runtime.send(ev.EndSession())  # past the goodbye
    scanner.scan(CARD)
    identified(runtime, CARD, IlsData.load(DEMO))
    pump_until(runtime, lambda: runtime.view.screen is Screen.BORROW)
    pad.place(HOLD_TAG)
    pump_until(runtime, lambda: any(isinstance(t, ev.BookRefused) for t in runtime.told))
    refused = [t for t in runtime.told if isinstance(t, ev.BookRefused)]
    assert refused == [ev.BookRefused(HELD, "三体", "on_hold", "staff")]
    for _ in range(10):
        runtime.pump()  # the pad reports the book again and again: told once
    assert [t for t in runtime.told if isinstance(t, ev.BookRefused)] == refused
