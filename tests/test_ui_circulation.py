"""Borrow, return and renew in the real app under Xvfb, against the real test ILS.

Touches on the demo tray's card and RFID buttons, the simulated 3M pad's tags, the test ILS's
own data, the journal file and the receipt's QR code read back off a screenshot. Screenshots
go to artifacts/screenshots/circulation-*.png for people to look at.
"""

import dataclasses
import os
import sqlite3

import pytest

from tests.conftest import ROOT

if not os.environ.get("DISPLAY"):
    if os.environ.get("CI"):
        raise RuntimeError("UI tests need a display: run them through ./setup.sh test (Xvfb)")
    pytest.skip("no display: run ./setup.sh test, which starts Xvfb", allow_module_level=True)

from kiosk.core import events as ev  # noqa: E402
from kiosk.demo import hooks  # noqa: E402
from kiosk.receipts import render  # noqa: E402
from kiosk.sip2.standin_data import IlsData  # noqa: E402
from kiosk.sip2.standin_server import Sip2TestServer  # noqa: E402
from tests.embedded_kiosk import embedded_kiosk
from tests.runtime_kiosk import ils_section

pytestmark = pytest.mark.ui
CARD, PIN = "23520001234566", "1234"
RED, RED_TAG = "33520000123453", "E004015000000001"
ALIVE, ALIVE_TAG = "33520000456788", "E004015000000002"
CD, CD_TAGS = "33520000246801", ("E004015000000004", "E004015000000005")
LOANED, LOANED_TAG = "33520000135792", "E004015000000006"
ON_LOAN, ON_SHELF = 0xC2, 0x07
DEMO_ILS = ROOT / "kiosk" / "demo" / "ils.toml"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    data = tmp_path_factory.mktemp("kiosk-circulation")
    ils = Sip2TestServer(IlsData.load(DEMO_ILS)).start()
    path = data / "kiosk.toml"
    path.write_text(f"""
[kiosk]
data_dir = "{data}"
[idle]
timeout_s = 60
{ils_section(ils)}
[circulation]
offline = true
receipt = "always"
[devices]
scanner = "sim:scanner"
rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"
printer = "sim:printer"
""", encoding="utf-8")
    with embedded_kiosk(path) as driver:
        runtime = driver.app.runtime
        driver.ils = ils
        driver.until(lambda: runtime.ils.online, timeout=10)
        yield driver
    ils.stop()


@pytest.fixture
def at_attract(kiosk):
    """Every test starts from the attract screen in Chinese, with nothing on the pad."""
    runtime = kiosk.app.runtime
    runtime.send(ev.EndSession())
    runtime.send(ev.EndSession())  # past the goodbye, when a patron's session ended
    hooks.sim_pad(runtime.drivers).clear()
    kiosk.until(lambda: not runtime.session.pad_uids, timeout=5)
    runtime.send(ev.SetLanguage("zh_CN"))
    kiosk.frames(3)
    assert kiosk.screen == "attract"
    return kiosk


def tray(kiosk, label):
    return next(w for w in kiosk.app.tray.walk() if getattr(w, "text", "") == label)


def settled(kiosk, count):
    circ = kiosk.app.runtime.view.circulation
    return len(circ.lines) == count and not circ.busy


def journal(kiosk):
    with sqlite3.connect(kiosk.app.runtime.config.journal_path) as db:
        return db.execute("SELECT kind, outcome, item, title FROM entries ORDER BY seq").fetchall()


def decoded(picture):
    from PIL import Image
    from pyzbar.pyzbar import decode
    return [symbol.data.decode("utf-8") for symbol in decode(Image.open(picture))]


def type_on_the_keypad(k, digits):
    keys = {w.text: w for w in k.widget("identify", "keypad").children}
    for digit in digits:
        k.tap(keys[digit])
    k.tap(keys["确定"])


def answer_the_pin(k, pin=PIN):
    """The ILS says whether a PIN is valid only when one is sent: the kiosk asks for it."""
    circulation = lambda: k.app.runtime.view.circulation  # noqa: E731
    k.until(lambda: circulation().step != "checking")
    assert circulation().step == "pin" and k.screen == "identify"
    type_on_the_keypad(k, pin)


def borrow_with_the_tray_card(k):
    k.tap(tray(k, "读者证 Card · 陈晓明 · 密码 PIN 1234"))
    answer_the_pin(k)
    k.until(lambda: k.screen == "borrow")


def test_borrow_with_a_card_and_books_on_the_pad_then_the_receipt(at_attract):
    k = at_attract
    pad = hooks.sim_pad(k.app.runtime.drivers)
    k.touch_to_start()
    k.tap(k.widget("home", "borrow"))
    assert k.screen == "identify"
    k.screenshot("circulation-identify")
    borrow_with_the_tray_card(k)
    assert k.shows("您好，陈晓明")
    k.tap(tray(k, "RFID 《红楼梦》"))
    k.tap(tray(k, "RFID 《英语听力》书 Book"))
    k.until(lambda: settled(k, 2))  # the book without its CD waits
    assert any("缺少附件" in row["detail"] for row in k.current().rows)
    k.screenshot("circulation-borrow-part-missing")
    k.tap(tray(k, "RFID 《英语听力》光盘 CD"))
    k.until(lambda: settled(k, 2) and all(
        line.status == "ok" for line in k.app.runtime.view.circulation.lines))
    assert k.ils.data.loans[RED].patron == CARD and k.ils.data.loans[CD].patron == CARD
    assert [pad.tags[uid].afi for uid in (RED_TAG, *CD_TAGS)] == [ON_LOAN] * 3
    due = k.ils.data.loans[RED].due.isoformat()
    assert any(row["title"] == "红楼梦" and due in row["detail"] for row in k.current().rows)
    assert ("checkout", "ok", RED, "红楼梦") in journal(k)
    k.screenshot("circulation-borrow")
    assert k.widget("borrow", "buttons").ids.back.opacity == 0  # done books: Finish only
    k.tap(k.widget("borrow", "buttons").ids.finish)
    assert k.screen == "receipt"
    shown = k.app.runtime.view.circulation.receipt
    receipt = render(shown.receipt, k.app.runtime.view.language)
    picture = k.screenshot("circulation-receipt")
    assert decoded(picture) == [receipt.qr]  # read off the screen, as a phone would
    assert "红楼梦" in receipt.qr and "英语听力" in receipt.qr and CARD not in receipt.qr
    printer = k.app.runtime.drivers["printer"].twin
    k.until(lambda: ("receipt", "printed", None, None) in journal(k), timeout=10)
    # The printer's twin reads the paper on its own thread, a moment after the driver wrote it.
    k.until(lambda: any("红楼梦" in job.text and job.cut for job in printer.printed))
    k.tap(k.widget("receipt", "done"))
    assert k.screen == "goodbye" and k.shows("谢谢，请取走您的读者证")  # the card was shown
    k.screenshot("circulation-goodbye")
    k.until(lambda: any(m.code == "35" and m.first("AA") == CARD for m in k.ils.history))
    assert journal(k)[-1][:2] == ("session", "ok")


def test_return_needs_no_card_and_arms_the_alarm(at_attract):
    k = at_attract
    pad = hooks.sim_pad(k.app.runtime.drivers)
    pad.tags[LOANED_TAG].afi = ON_LOAN  # it went out through a kiosk
    k.touch_to_start()
    k.tap(k.widget("home", "return"))
    assert k.screen == "return"
    k.tap(tray(k, "RFID 《平凡的世界》(3M)"))
    k.until(lambda: settled(k, 1))
    (row,) = k.current().rows
    assert (row["title"] == "平凡的世界" and "已归还" in row["detail"]
            and "A 号书箱" in row["detail"])
    assert LOANED not in k.ils.data.loans and pad.tags[LOANED_TAG].afi == ON_SHELF
    k.screenshot("circulation-return")
    k.tap(k.widget("return", "buttons").ids.finish)
    shown = k.app.runtime.view.circulation.receipt
    text = render(shown.receipt, k.app.runtime.view.language).text
    assert k.screen == "receipt" and "平凡的世界" in text
    k.tap(k.widget("receipt", "done"))
    assert ("checkin", "ok", LOANED, "平凡的世界") in journal(k)


def test_my_account_by_typed_card_number_then_renew(at_attract):
    k = at_attract
    runtime = k.app.runtime
    k.ils.data.loans[RED] = _loan(RED)  # on loan to the patron, not yet renewed
    k.touch_to_start()
    k.tap(k.widget("home", "account"))
    keys = {w.text: w for w in k.widget("identify", "keypad").children}
    for digit in CARD:
        k.tap(keys[digit])
    assert k.widget("identify", "entry").text == CARD
    k.tap(keys["确定"])
    answer_the_pin(k)
    k.until(lambda: k.screen == "account" and not runtime.view.circulation.busy)
    titles = [row["title"] for row in k.current().rows]
    assert "红楼梦" in titles
    before = k.ils.data.loans[RED].due
    k.screenshot("circulation-account")
    k.frames(3)
    button = next(w for w in k.widget("account", "books").walk()
                  if getattr(w, "item_id", "") == RED)
    renew = next(w for w in button.walk() if getattr(w, "text", "") == "续借")
    k.tap_at(*renew.to_window(*renew.center))  # a RecycleView cannot scroll_to
    k.until(lambda: not runtime.view.circulation.busy)
    assert k.ils.data.loans[RED].due > before
    line = next(line for line in runtime.view.circulation.lines if line.item_id == RED)
    assert line.renewed and line.due == k.ils.data.loans[RED].due.isoformat()
    assert ("renew", "ok", RED, "红楼梦") in journal(k)
    k.screenshot("circulation-account-renewed")
    k.tap(k.widget("account", "buttons").ids.finish)
    assert k.screen == "receipt"
    k.tap(k.widget("receipt", "done"))


def _loan(item):
    from datetime import date, timedelta

    from kiosk.sip2.standin_data import Loan
    return Loan(CARD, item, date.today() + timedelta(days=30))


def test_the_ils_going_away_mid_session_and_coming_back(at_attract):
    k = at_attract
    k.ils.data.loans.pop(ALIVE, None)
    borrow_with_the_tray_card(k)
    k.ils.faults.go_away()
    k.tap(tray(k, "RFID 《活着》"))
    k.until(lambda: settled(k, 1), timeout=15)
    (row,) = k.current().rows
    assert "已受理" in row["detail"]
    assert k.shows("图书馆系统暂时断开")
    assert ("checkout", "offline", ALIVE, None) in journal(k)
    assert ALIVE not in k.ils.data.loans
    k.screenshot("circulation-ils-away")
    k.ils.faults.come_back()
    k.until(lambda: ("offline_replay", "sent", ALIVE, "活着") in journal(k), timeout=30)
    assert k.ils.data.loans[ALIVE].patron == CARD
    k.until(lambda: not k.shows("图书馆系统暂时断开"), timeout=10)
    k.tap(k.widget("borrow", "buttons").ids.finish)
    k.tap(k.widget("receipt", "done"))


def test_a_result_nobody_can_know_is_said_so_and_the_alarm_stays_on(at_attract):
    """The ILS lends the book, then the line drops, and it refuses the kiosk's new login: the
    kiosk cannot ask what happened, so the patron is sent to staff, never told "borrowed"."""
    k = at_attract
    runtime = k.app.runtime
    pad = hooks.sim_pad(runtime.drivers)
    k.ils.data.loans.pop(ALIVE, None)
    pad.tags[ALIVE_TAG].afi = ON_SHELF  # on the shelf, armed
    borrow_with_the_tray_card(k)
    k.ils.faults.next("lose_reply", code="11")
    k.ils.faults.refuse_logins = True
    try:
        k.tap(tray(k, "RFID 《活着》"))
        k.until(lambda: settled(k, 1), timeout=20)
        (row,) = k.current().rows
        assert row["detail"] == "结果未知。离开前请找工作人员。"
        assert k.ils.data.loans[ALIVE].patron == CARD  # the ILS did lend it
        assert pad.tags[ALIVE_TAG].afi == ON_SHELF  # the gate still sounds: staff look
        assert ("checkout", "unknown", ALIVE, None) in [r[:3] + (None,) for r in journal(k)]
        k.screenshot("circulation-result-unknown")
    finally:
        k.ils.faults.clear()
    k.until(lambda: runtime.ils.online, timeout=30)
    k.tap(k.widget("borrow", "buttons").ids.finish)
    k.tap(k.widget("receipt", "done")) if k.screen == "receipt" else None


def test_a_chinese_title_through_a_gbk_ils(at_attract, tmp_path):
    """A second test ILS speaking GBK, and the kiosk's ILS link configured to match."""
    from kiosk.ils.worker import IlsWorker
    from kiosk.sip2.client import IlsSettings
    k = at_attract
    runtime = k.app.runtime
    with Sip2TestServer(IlsData.load(DEMO_ILS), charset="gbk") as gbk:
        host, port = gbk.address
        ils = dataclasses.replace(runtime.config.ils, host=host, port=port, charset="gbk")
        utf8_worker = runtime.ils
        utf8_worker.close()
        runtime.ils = IlsWorker(IlsSettings.from_config(
            dataclasses.replace(runtime.config, ils=ils)), runtime.events, runtime.offline_store)
        runtime.ils.start()
        try:
            k.until(lambda: runtime.ils.online, timeout=10)
            borrow_with_the_tray_card(k)
            assert k.shows("您好，陈晓明")
            k.tap(tray(k, "RFID 《红楼梦》"))
            k.until(lambda: settled(k, 1))
            (row,) = k.current().rows
            assert row["title"] == "红楼梦" and "已借出" in row["detail"]
            assert gbk.data.loans[RED].patron == CARD and not gbk.protocol_errors
            k.screenshot("circulation-gbk")
            k.tap(k.widget("borrow", "buttons").ids.finish)
            assert "红楼梦" in decoded(k.screenshot("circulation-gbk-receipt"))[0]
            k.tap(k.widget("receipt", "done"))
        finally:
            runtime.ils.close()
            runtime.ils = utf8_worker
            utf8_worker.start()


def test_the_demo_tray_is_built_once(kiosk):
    """This module's app is the second in its process (tests/test_ui.py's came first): the kv
    rules are the process's, and loaded twice they would build the tray's title and samples
    twice, halving the room for the samples."""
    from kiosk.ui.widgets import DemoTray
    (tray,) = [w for w in kiosk.app.root.walk() if isinstance(w, DemoTray)]
    assert len(tray.children) == 2  # the title, and the scrolling samples
