"""The runtime without a screen, against the real test ILS on 127.0.0.1 and the simulated pad.

The ILS is `kiosk.sip2.standin_server` serving the demo's library; the pad is the 3M 810 twin
on a pty (`sim:3m810`, unpaced), whose tags' AFI bytes the test reads back after each journey.
"""


import pytest

from kiosk import config as config_module
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.demo import hooks
from kiosk.ils.offline_store import OfflineStore
from kiosk.journal import Journal
from kiosk.receipts import render
from kiosk.runtime import Runtime, SteerableClock
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.runtime_kiosk import identified, ils_section, pump_until, started

CARD, OTHER_CARD = "23520001234566", "23520009876541"
DEMO_PINS = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
RED, RED_TAG = "33520000123453", "E004015000000001"
HOLD_TAG = "E004015000000003"  # 三体, on hold for 李芳
CD_TAGS = ("E004015000000004", "E004015000000005")  # 英语听力, the book and its CD
LOANED, LOANED_TAG = "33520000135792", "E004015000000006"  # 平凡的世界, on loan to CARD
ON_LOAN, ON_SHELF = 0xC2, 0x07


@pytest.fixture(params=["utf-8", "gbk"])
def ils(request):
    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    with Sip2TestServer(data, charset=request.param) as server:
        yield server


@pytest.fixture
def runtime(tmp_path, ils):
    runtime = started(tmp_path, ils_section(ils),
                      "[circulation]\noffline = true\noffline_max_items = 3\n")
    yield runtime
    runtime.close()


def rows(runtime):
    with Journal.open_existing(runtime.config.journal_path) as reader:
        return [(row.kind, row.outcome, row.item, row.title) for row in reader.rows()]


def settled(runtime):
    circ = runtime.view.circulation
    return bool(circ.lines) and not circ.busy


def borrowing(runtime, card=CARD):
    hooks.sim_scanner(runtime.drivers).scan(card)
    pump_until(runtime, lambda: runtime.view.circulation.step == "checking")
    identified(runtime, card, DEMO_PINS)
    pump_until(runtime, lambda: runtime.view.screen is Screen.BORROW)


def test_a_checkout_clears_every_part_on_the_pad_only_after_the_ils_lent_it(runtime, ils):
    pad = hooks.sim_pad(runtime.drivers)
    borrowing(runtime)
    assert runtime.view.circulation.patron.name == "陈晓明"  # through the ILS's charset
    pad.place(RED_TAG, *CD_TAGS, HOLD_TAG)
    pump_until(runtime, lambda: len(runtime.view.circulation.lines) == 3 and settled(runtime))
    lines = {line.item_id: line for line in runtime.view.circulation.lines}
    red = lines[RED]
    assert (red.status, red.title) == ("ok", "红楼梦")
    assert red.due == ils.data.loans[RED].due.isoformat()
    assert ils.data.loans[RED].patron == CARD and ils.data.loans["33520000246801"].patron == CARD
    assert lines["33520000246801"].status == "ok"
    assert [pad.tags[uid].afi for uid in (RED_TAG, *CD_TAGS)] == [ON_LOAN] * 3
    hold = lines["33520000789014"]
    assert (hold.status, hold.reason) == ("refused", "on_hold")
    assert pad.tags[HOLD_TAG].afi == ON_SHELF
    assert ("write_afi", HOLD_TAG, ON_LOAN) not in pad.history
    journal = rows(runtime)
    assert (("checkout", "ok", RED, "红楼梦") in journal
            and ("checkout", "on_hold", "33520000789014", "三体") in journal)
    runtime.send(ev.FinishFlow())
    receipt = runtime.view.circulation.receipt
    assert runtime.view.screen is Screen.RECEIPT and "红楼梦" in render(receipt.receipt, "en").qr
    runtime.send(ev.EndSession())
    pump_until(runtime, lambda: any(m.code == "35" for m in ils.history))
    assert [r[:2] for r in rows(runtime)][-2:] == [("receipt", "shown"), ("session", "ok")]
    assert not ils.protocol_errors


def test_a_return_arms_the_alarm_and_gives_the_sort_bin(runtime, ils):
    pad = hooks.sim_pad(runtime.drivers)
    pad.tags[LOANED_TAG].afi = ON_LOAN  # it went out through this kiosk
    runtime.send(ev.Start())
    runtime.send(ev.Navigate(Screen.RETURN))
    pad.place(LOANED_TAG)
    pump_until(runtime, lambda: settled(runtime))
    (line,) = runtime.view.circulation.lines
    assert (line.status, line.title, line.sort_bin) == ("ok", "平凡的世界", "A")
    assert LOANED not in ils.data.loans
    assert pad.tags[LOANED_TAG].afi == ON_SHELF
    assert ("checkin", "ok", LOANED, "平凡的世界") in rows(runtime)


def test_the_ils_going_away_mid_session_is_offline_then_replayed_when_back(runtime, ils):
    pad = hooks.sim_pad(runtime.drivers)
    borrowing(runtime)
    ils.faults.go_away()
    pad.place(RED_TAG)
    pump_until(runtime, lambda: settled(runtime))
    (line,) = runtime.view.circulation.lines
    assert line.status == "offline"
    assert runtime.view.circulation.service == "offline"
    assert pad.tags[RED_TAG].afi == ON_LOAN and RED not in ils.data.loans
    assert ("checkout", "offline", RED, None) in rows(runtime)
    with OfflineStore(runtime.config.data_dir / "offline.sqlite3",
                      runtime.config.patron_key_path) as store:
        assert [(t.kind, t.patron_id, t.item_id) for t in store.pending()] == [
            ("checkout", CARD, RED)]
    ils.faults.come_back()
    pump_until(runtime, lambda: ("offline_replay", "sent", RED, "红楼梦") in rows(runtime),
          timeout=30)
    assert ils.data.loans[RED].patron == CARD
    pump_until(runtime, lambda: runtime.view.circulation.service == "ok")


def test_a_book_the_ils_refused_is_not_lent_offline_and_keeps_its_alarm(runtime, ils):
    """Offline, lend only what the kiosk can tell is lendable: 三体 is on hold for someone
    else, the ILS said so a minute ago, so it is not lent while the ILS is away."""
    pad = hooks.sim_pad(runtime.drivers)
    borrowing(runtime)
    pad.place(HOLD_TAG)
    pump_until(runtime, lambda: settled(runtime))
    assert runtime.view.circulation.lines[0].reason == "on_hold"
    pad.clear()
    pump_until(runtime, lambda: not runtime.session.pad_uids)  # lifted, so it counts again
    runtime.send(ev.FinishFlow())
    runtime.send(ev.EndSession())
    ils.faults.go_away()
    hooks.sim_scanner(runtime.drivers).scan(CARD)  # taken unchecked: the ILS is away
    pump_until(runtime, lambda: runtime.view.screen is Screen.BORROW)
    pad.place(HOLD_TAG)
    pump_until(runtime, lambda: runtime.view.circulation.lines and settled(runtime))
    (line,) = runtime.view.circulation.lines
    assert (line.status, line.reason) == ("refused", "offline_not_lendable")
    assert pad.tags[HOLD_TAG].afi == ON_SHELF  # still armed
    assert rows(runtime)[-1][:2] == ("checkout", "offline_not_lendable")
    with OfflineStore(runtime.config.data_dir / "offline.sqlite3",
                      runtime.config.patron_key_path) as store:
        assert store.pending() == []


def test_without_offline_mode_a_book_is_refused_and_its_alarm_left_on(tmp_path, ils):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n{ils_section(ils)}'
                    '[devices]\nscanner = "sim:scanner"\n'
                    'rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"\n', encoding="utf-8")
    config = config_module.load(path)
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    runtime.start()
    try:
        pump_until(runtime, lambda: runtime.ils.online and "rfid" in runtime.view.devices)
        borrowing(runtime)
        ils.faults.go_away()
        hooks.sim_pad(runtime.drivers).place(RED_TAG)
        pump_until(runtime, lambda: settled(runtime))
        (line,) = runtime.view.circulation.lines
        assert (line.status, line.reason) == ("refused", "ils_unavailable")
        assert hooks.sim_pad(runtime.drivers).tags[RED_TAG].afi == ON_SHELF
        assert runtime.view.circulation.service == "unavailable"
    finally:
        runtime.close()


def test_renewing_a_loan_moves_its_due_date_in_the_ils(runtime, ils):
    runtime.send(ev.Start())
    runtime.send(ev.Navigate(Screen.ACCOUNT))
    runtime.send(ev.CardNumberTyped(CARD))
    identified(runtime, CARD, DEMO_PINS)
    pump_until(runtime, lambda: runtime.view.screen is Screen.ACCOUNT and settled(runtime))
    (line,) = runtime.view.circulation.lines
    assert (line.item_id, line.title, line.status) == (LOANED, "平凡的世界", "listed")
    before = ils.data.loans[LOANED].due
    assert line.due == before.isoformat()
    runtime.send(ev.Renew())
    pump_until(runtime, lambda: settled(runtime))
    (line,) = runtime.view.circulation.lines
    assert line.renewed and line.due == ils.data.loans[LOANED].due.isoformat()
    assert ils.data.loans[LOANED].due > before
    assert ("renew", "ok", LOANED, "平凡的世界") in rows(runtime)
