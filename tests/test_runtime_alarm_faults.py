"""A checkout whose alarm write goes wrong on the line, through the whole kiosk: the runtime
without a screen, the real test ILS on 127.0.0.1 and the 3M 810 twin on a pty. What the
patron's line and the journal say must match the tag's AFI, or say that it is not known."""

from __future__ import annotations

import pytest

from drivers.sim.rfid_pad import LineFault, Op
from kiosk.core.events import Screen
from kiosk.demo import hooks
from kiosk.journal import Journal
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.runtime_kiosk import identified, ils_section, pump_until, started

CARD = "23520001234566"
RED, RED_TAG = "33520000123453", "E004015000000001"
ON_LOAN = 0xC2


@pytest.fixture
def runtime(tmp_path):
    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    with Sip2TestServer(data, charset="utf-8") as ils:
        runtime = started(tmp_path, ils_section(ils))
        yield runtime
        runtime.close()


def borrow_red(runtime):
    hooks.sim_scanner(runtime.drivers).scan(CARD)
    identified(runtime, CARD, IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml"))
    pump_until(runtime, lambda: runtime.view.screen is Screen.BORROW)
    hooks.sim_pad(runtime.drivers).place(RED_TAG)
    pump_until(runtime, lambda: any(line.item_id == RED and line.status in ("ok", "staff")
                                    for line in runtime.view.circulation.lines))
    return next(line for line in runtime.view.circulation.lines if line.item_id == RED)


def journal(runtime):
    with Journal.open_existing(runtime.config.journal_path) as reader:
        return [(row.kind, row.outcome) for row in reader.rows()
                if row.item == RED and row.kind != "intent"]


def test_a_checkout_whose_alarm_reply_was_lost_is_done_because_the_tag_reads_back_disarmed(runtime):
    pad = hooks.sim_pad(runtime.drivers)
    pad.plan(Op.WRITE_SECURITY, LineFault.LOST)
    line = borrow_red(runtime)
    assert pad.tags[RED_TAG].afi == ON_LOAN and pad.line_faults == [(Op.WRITE_SECURITY,
                                                                      LineFault.LOST)]
    assert line.status == "ok" and journal(runtime) == [("checkout", "ok")]


def test_a_checkout_whose_alarm_cannot_be_read_back_goes_to_staff(runtime):
    pad = hooks.sim_pad(runtime.drivers)
    pad.faults.unreadable_security.add(RED_TAG)
    line = borrow_red(runtime)
    assert (line.status, line.reason) == ("staff", "security_failed")
    assert journal(runtime) == [("checkout", "security_failed")]
    assert pad.tags[RED_TAG].afi == ON_LOAN  # written, but the kiosk cannot know: staff look
