"""The real kiosk app under Xvfb, driven by touches: every screen, the idle timer, admin, demo.

Screenshots of each screen go to artifacts/screenshots/ for people to look at.
"""

import os
import sqlite3

import pytest

from tests.conftest import ARTIFACTS

if not os.environ.get("DISPLAY"):
    if os.environ.get("CI"):
        raise RuntimeError("UI tests need a display: run them through ./setup.sh test (Xvfb)")
    pytest.skip("no display: run ./setup.sh test, which starts Xvfb", allow_module_level=True)

from kiosk import config as config_module  # noqa: E402
from kiosk.core import events as ev  # noqa: E402
from kiosk.core.pin import hash_pin  # noqa: E402
from kiosk.journal import Journal  # noqa: E402
from kiosk.runtime import Runtime, SteerableClock  # noqa: E402
from kiosk.ui import boot  # noqa: E402

PIN = "2580"
CARD = "23520001234566"
pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    data = tmp_path_factory.mktemp("kiosk-data")
    path = data / "kiosk.toml"
    path.write_text(f"""
[kiosk]
data_dir = "{data}"
library_name_zh = "醴陵市图书馆"
library_name_en = "Liling City Library"
[idle]
timeout_s = 30
countdown_s = 10
[admin]
pin_hash = "{hash_pin(PIN, iterations=1000)}"
long_press_s = 1.0
max_attempts = 3
[devices]
scanner = "sim:scanner"
rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"
""", encoding="utf-8")
    config = config_module.load(path)
    boot.prepare(config.display)
    from kivy.base import runTouchApp, stopTouchApp

    from kiosk.ui.app import KioskApp
    from tests.kiosk_driver import KioskDriver

    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    app = KioskApp(runtime, demo=True)
    app._run_prepare()
    runTouchApp(embedded=True)
    driver = KioskDriver(app, ARTIFACTS / "screenshots")
    driver.journal_path = config.journal_path
    driver.frames(5)
    yield driver
    stopTouchApp()
    app.stop()


@pytest.fixture
def at_attract(kiosk):
    """Every test starts from the attract screen in Chinese."""
    kiosk.app.runtime.send(ev.EndSession())
    kiosk.app.runtime.send(ev.SetLanguage("zh_CN"))
    kiosk.frames(3)
    assert kiosk.screen == "attract"
    return kiosk


def journal_rows(kiosk):
    with sqlite3.connect(kiosk.journal_path) as db:
        return db.execute("SELECT kind, outcome FROM entries ORDER BY seq").fetchall()


def test_attract_shows_library_time_and_start_in_both_languages(at_attract):
    texts = at_attract.texts()
    for expected in ("醴陵市图书馆", "Liling City Library", "轻触屏幕开始", "Touch the screen to start"):
        assert expected in texts
    assert any("年" in t and "日" in t for t in texts), texts  # the Chinese date
    assert any(":" in t and len(t) == 5 for t in texts), texts  # the time, HH:MM
    at_attract.screenshot("attract")


def test_touch_starts_and_every_service_says_plainly_it_comes_later(at_attract):
    k = at_attract
    k.tap_at(400, 240)
    assert k.screen == "home"
    k.screenshot("home")
    for service, title in (("borrow", "借书"), ("return", "还书"), ("ebooks", "电子书"),
                           ("account", "我的借阅")):
        k.tap(k.widget("home", service))
        assert k.screen == service
        assert "本机暂未开通此项服务" in k.texts()
        assert title in k.texts()
        k.screenshot(f"coming-later-{service}")
        k.tap(k.widget(service, "back"))
        assert k.screen == "home"
    k.tap(k.widget("home", "finish"))
    assert k.screen == "attract"
    assert journal_rows(k)[-1] == ("session", "ok")


def test_language_switch_on_every_screen(at_attract):
    k = at_attract
    k.tap_at(400, 240)
    for screen in ("home", "borrow"):
        if screen != "home":
            k.tap(k.widget("home", screen))
        assert "English" in k.texts()
        switch = next(w for w in k.current().walk() if getattr(w, "text", "") == "English")
        k.tap(switch)
        assert "中文" in k.texts() and k.shows("Borrow")
        k.screenshot(f"{screen}-english")
        switch = next(w for w in k.current().walk() if getattr(w, "text", "") == "中文")
        k.tap(switch)
        assert k.shows("借书")


def test_idle_countdown_asks_then_returns_to_attract(at_attract):
    k = at_attract
    k.tap_at(400, 240)
    k.tap(k.widget("home", "ebooks"))
    k.advance(31)
    assert any("您还在吗" in t for t in k.texts())
    k.screenshot("still-there")
    overlay = k.app._overlay
    keep = next(w for w in overlay.walk() if getattr(w, "text", "") == "我还在")
    k.tap(keep)
    assert k.app._overlay is None and k.screen == "ebooks"
    k.advance(41)
    assert k.screen == "attract"
    assert journal_rows(k)[-1] == ("session", "timeout")


def test_long_press_in_the_corner_then_pin_opens_admin(at_attract):
    k = at_attract
    k.tap_at(20, 470)  # a tap in the corner does nothing
    assert k.screen == "attract"
    k.hold_at(20, 470, 1.3)
    assert k.screen == "admin_pin"
    keypad = {w.text: w for w in k.widget("admin_pin", "keypad").children}
    for digit in "1111":
        k.tap(keypad[digit])
    assert k.widget("admin_pin", "dots").text == "●●●●"
    k.tap(keypad["确定"])
    assert k.widget("admin_pin", "message").text == "密码错误，请重试。"
    k.screenshot("admin-pin-wrong")
    for digit in PIN:
        k.tap(keypad[digit])
    k.tap(keypad["确定"])
    assert k.screen == "admin"
    admin = k.current()
    k.until(lambda: admin.view.status is not None)
    k.frames(3)
    names = [row["name"] for row in admin.rows]
    for expected in ("设备 scanner", "软件版本", "交易日志", "磁盘空间", "时钟"):
        assert expected in names, names
    k.screenshot("admin")
    assert journal_rows(k)[-2:] == [("admin", "pin_wrong"), ("admin", "ok")]
    k.tap(k.widget("admin", "exit"))
    assert k.screen == "attract"


def test_demo_keyboard_and_tray_scans_show_masked(at_attract):
    k = at_attract
    k.type_text(CARD)
    assert k.screen == "home"
    notice = k.app.root.notice_text
    assert "**********4566" in notice and CARD not in notice
    k.app.runtime.send(ev.EndSession())
    k.frames(3)
    book = next(w for w in k.app.tray.walk() if getattr(w, "text", "") == "《红楼梦》")
    k.tap(book)
    assert k.screen == "home" and "3453" in k.app.root.notice_text
    k.screenshot("demo-scan")


def test_demo_tray_puts_tags_on_the_simulated_pad_and_a_missing_part_is_named(at_attract):
    k = at_attract
    pad = k.app.runtime.sim_pad()
    buttons = {w.text: w for w in k.app.tray.walk() if getattr(w, "text", "").startswith("RFID")}
    k.tap(buttons["RFID 《英语听力》书 Book"])
    k.until(lambda: "缺少附件" in k.app.root.notice_text)
    assert k.screen == "home"
    k.screenshot("rfid-part-missing")
    k.tap(buttons["RFID 《英语听力》光盘 CD"])
    k.until(lambda: "感应区上有 1 件图书" in k.app.root.notice_text)
    k.tap(buttons["RFID 《英语听力》书 Book"])
    k.tap(buttons["RFID 《英语听力》光盘 CD"])
    assert pad.on_pad == set()


def test_an_unplugged_reader_shows_offline_to_patrons_and_staff_until_replugged(at_attract):
    k = at_attract
    rfid = k.app.runtime.drivers["rfid"]
    k.app.runtime.send(ev.Start())
    rfid.twin.unplug()
    k.until(lambda: "RFID 感应区" in k.app.root.offline_text)
    assert "请联系工作人员" in k.app.root.offline_text
    k.screenshot("device-offline")
    assert k.app.runtime.view.devices["rfid"].state == "lost"
    rfid.twin.replug()
    k.until(lambda: k.app.root.offline_text == "", timeout=10)
    assert k.app.runtime.view.devices["rfid"].state == "connected"


def test_escape_and_window_close_never_leave_the_kiosk(at_attract):
    from kivy.core.window import Window
    k = at_attract
    assert k.key(27) is True
    assert Window.dispatch("on_request_close") is True
    k.frames(3)
    assert k.screen == "attract" and k.app.root.get_root_window() is not None


def test_chinese_is_drawn_with_the_simplified_chinese_face(kiosk):
    from kivy.core.text import DEFAULT_FONT, LabelBase
    regular = LabelBase._fonts[DEFAULT_FONT][0]
    assert "-SC-" in regular and regular.startswith(str(kiosk.app.runtime.config.data_dir))
