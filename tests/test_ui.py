"""The real kiosk app under Xvfb, driven by touches: every screen, the idle timer, admin, demo.

Screenshots of each screen go to artifacts/screenshots/ for people to look at.
"""

import os
import socket
import sqlite3

import pytest

from tests.embedded_kiosk import embedded_kiosk  # noqa: E402

if not os.environ.get("DISPLAY"):
    if os.environ.get("CI"):
        raise RuntimeError("UI tests need a display: run them through ./setup.sh test (Xvfb)")
    pytest.skip("no display: run ./setup.sh test, which starts Xvfb", allow_module_level=True)

from content.store import CatalogueStore  # noqa: E402
from kiosk.core import events as ev  # noqa: E402
from kiosk.core.pin import hash_pin  # noqa: E402
from kiosk.demo import hooks  # noqa: E402
from tests.content_batches import Batches  # noqa: E402
from tests.staff_pin import enter_pin  # noqa: E402

PIN = "2580"
CARD = "23520001234566"
pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    data = tmp_path_factory.mktemp("kiosk-data")
    batches = Batches(tmp_path_factory.mktemp("batches"))
    CatalogueStore(data / "catalogue").apply(batches.first, batches.public)
    port = free_port()
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
pin_hash = "{hash_pin(PIN, iterations=100_000)}"
long_press_s = 1.0
max_attempts = 3
[devices]
scanner = "sim:scanner"
rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"
[ebooks]
serve = true
listen = "127.0.0.1"
port = {port}
download_base = "http://127.0.0.1:{port}"
wifi_ssid = "Liling-Library"
wifi_password = "read;more"
""", encoding="utf-8")
    with embedded_kiosk(path) as driver:
        config = driver.app.runtime.config
        driver.journal_path = config.journal_path
        driver.batch = batches.first
        driver.frames(5)
        yield driver


def test_the_notice_and_offline_bars_and_the_tray_follow_the_accessible_mode(at_attract):
    """Made once with the root, not with the screens: restyled in place to the larger type and
    the high-contrast palette, white text on each at 7:1, then back as the session ends."""
    from kiosk.ui.layout_check import contrast
    from kiosk.ui.palette import HIGH_CONTRAST, HIGH_CONTRAST_RATIO, NORMAL

    k = at_attract
    root, rfid = k.app.root, k.app.runtime.drivers["rfid"]
    bars = (root.ids.notice_bar, root.ids.offline_bar)
    before = [bar.font_size for bar in bars]
    k.app.runtime.send(ev.SetAccessible(True))
    rfid.twin.unplug()
    k.until(lambda: k.app.accessible and "RFID 感应区" in root.offline_text)
    k.frames(3)
    k.screenshot("bars-accessible")
    assert all(abs(bar.font_size - size * 1.3) <= 1 for bar, size in zip(bars, before))
    assert [tuple(bar.back) for bar in bars] == [HIGH_CONTRAST["NOTICE_BAR"],
                                                 HIGH_CONTRAST["BANNER"]]
    assert all(contrast((1, 1, 1, 1), tuple(bar.back)) >= HIGH_CONTRAST_RATIO for bar in bars)
    tray = [w for w in k.app.tray.ids.samples.children]
    assert all(contrast((1, 1, 1, 1), tuple(b.background_color)) >= HIGH_CONTRAST_RATIO
               for b in tray)
    rfid.twin.replug()
    k.until(lambda: root.offline_text == "", timeout=10)
    k.app.runtime.send(ev.EndSession())
    k.until(lambda: not k.app.accessible)
    assert [bar.font_size for bar in bars] == before
    assert tuple(bars[1].back) == NORMAL["BANNER"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    for expected in ("醴陵市图书馆", "Liling City Library", "轻触屏幕开始",
                     "Touch the screen to start"):
        assert expected in texts
    assert any("年" in t and "日" in t for t in texts), texts  # the Chinese date
    assert any(":" in t and len(t) == 5 for t in texts), texts  # the time, HH:MM
    at_attract.screenshot("attract")


def test_touch_starts_and_every_service_says_plainly_it_is_not_set_up(at_attract):
    # This kiosk has no [ils]: borrowing and the account ask for the card, returning does not,
    # and each says plainly that the service is not set up here.
    k = at_attract
    k.touch_to_start()
    assert k.screen == "home"
    k.screenshot("home")
    for service, shown, title in (("borrow", "identify", "借书"), ("return", "return", "还书"),
                                  ("account", "identify", "我的借阅")):
        k.tap(k.widget("home", service))
        assert k.screen == shown
        assert k.shows("本机尚未开通借还书服务")
        assert title in k.texts()
        k.screenshot(f"not-set-up-{service}")
        back = k.widget(shown, "back") if shown == "identify" else \
            k.widget(shown, "buttons").ids.back
        k.tap(back)
        assert k.screen == "home"
    k.tap(k.widget("home", "finish"))
    assert k.screen == "attract"
    assert journal_rows(k)[-1] == ("session", "ok")


def test_language_switch_on_every_screen(at_attract):
    k = at_attract
    k.touch_to_start()
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
    k.touch_to_start()
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
    k.until(lambda: k.widget("admin_pin", "message").text == "密码错误，请重试。")  # PIN thread
    k.screenshot("admin-pin-wrong")
    for digit in PIN:
        k.tap(keypad[digit])
    k.tap(keypad["确定"])
    k.until(lambda: k.screen == "admin")
    admin = k.current()
    k.until(lambda: admin.view.status is not None)
    k.frames(3)
    names = [row["name"] for row in admin.rows]
    for expected in ("扫码器", "软件版本", "交易日志", "磁盘空间", "时钟"):
        assert expected in names, names
    assert k.widget("admin", "upload").text == "立即上传"
    k.screenshot("admin")
    assert journal_rows(k)[-2:] == [("admin", "pin_wrong"), ("admin", "ok")]
    k.tap(k.widget("admin", "exit"))
    assert k.screen == "attract"


def test_the_pin_pad_locks_with_a_countdown_then_frees_itself(at_attract):
    """At 800x480 here; tests/test_admin_pin_screen.py runs the whole lockout in portrait."""
    k = at_attract
    k.app.runtime.send(ev.AdminGesture())  # the long press: see the test above
    k.frames(3)
    keypad = k.widget("admin_pin", "keypad")
    keys = {w.text: w for w in keypad.children}
    message = k.widget("admin_pin", "message")
    for digit in "1111":
        k.tap(keys[digit])
    k.tap(keys["确定"])
    k.until(lambda: k.app.runtime.view.pin_message == "wrong")
    for attempt in range(2):  # up to max_attempts, quicker than by touch
        enter_pin(k.app.runtime, "1111")
    left = k.app.runtime.view.pin_wait_s
    assert k.app.runtime.view.pin_message == "locked" and 295 <= left <= 300
    k.frames(3)
    assert (message.text.startswith("密码错误次数过多，键盘已锁定，")
            and "\nToo many" in message.text)
    assert keypad.disabled
    k.screenshot("admin-pin-locked")
    k.advance(301)  # the lockout is over (and the idle timer has closed the pad)
    k.app.runtime.send(ev.AdminGesture())
    k.frames(3)
    assert message.text == "请输入工作人员密码" and not keypad.disabled
    assert journal_rows(k)[-3:] == [("admin", "pin_wrong"), ("admin", "pin_wrong"),
                                    ("admin", "pin_locked")]
    k.app.runtime.send(ev.EndSession())


def test_demo_keyboard_and_tray_scans_show_masked(at_attract):
    k = at_attract
    k.type_text(CARD)
    assert k.screen == "identify"  # a card: who is it? (this kiosk has no ILS to ask)
    assert not any(CARD in text for text in k.texts())
    k.app.runtime.send(ev.EndSession())
    k.frames(3)
    book = next(w for w in k.app.tray.walk() if getattr(w, "text", "") == "《红楼梦》")
    k.tap(book)
    assert k.screen == "home" and "3453" in k.app.root.notice_text
    k.screenshot("demo-scan")


def test_demo_tray_puts_tags_on_the_simulated_pad_and_a_missing_part_is_named(at_attract):
    k = at_attract
    pad = hooks.sim_pad(k.app.runtime.drivers)
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


def test_no_function_key_opens_kivy_settings_in_the_demo_either(at_attract):
    """tests/test_lockdown_keys.py types them as real X input into a production kiosk."""
    from kivy.core.window import Window
    from kivy.uix.settings import Settings
    k = at_attract
    for key in range(282, 294):  # F1..F12, as SDL reports them
        assert k.key(key) is True
    assert k.app.open_settings() is False
    k.frames(3)
    assert not any(isinstance(w, Settings) for w in Window.children)
    assert k.screen == "attract"


def test_chinese_is_drawn_with_the_simplified_chinese_face(kiosk):
    from kivy.core.text import DEFAULT_FONT, LabelBase
    regular = LabelBase._fonts[DEFAULT_FONT][0]
    assert "-SC-" in regular and regular.startswith(str(kiosk.app.runtime.config.data_dir))


# --- e-books ------------------------------------------------------------------------------

def key_button(kiosk, text):
    rows = kiosk.widget("ebook_search", "keyboard").children
    return next(b for row in rows for b in row.children if b.text == text)


def decoded(picture):
    from PIL import Image
    from pyzbar.pyzbar import decode
    return [symbol.data.decode("utf-8") for symbol in decode(Image.open(picture))]


def test_search_says_how_many_matched_beyond_the_rows_shown(at_attract):
    k = at_attract
    k.touch_to_start()
    k.tap(k.widget("home", "ebooks"))
    k.tap(k.widget("ebooks", "search"))
    screen = k.current()
    screen.page = 3
    try:
        k.tap(key_button(k, "×"))
        k.tap(key_button(k, "h"))
        total = screen.library.found("h", 1000).titles
        assert total > 3
        results = k.widget("ebook_search", "results")
        k.until(lambda: len(results.data) == 3)
        header = k.widget("ebook_search", "header")  # the query and the count, as its title
        assert header.title == f"h  ·  找到 {total} 本，显示前 3 本"
        k.screenshot("ebook-search-count")
        k.app.runtime.send(ev.SetLanguage("en"))
        k.frames(3)
        assert header.title == f"h  ·  {total} found, showing the first 3"
        k.screenshot("ebook-search-count-en")
        for letter in "lm":
            k.tap(key_button(k, letter))
        k.until(lambda: len(results.data) == 1)
        assert header.title == "hlm  ·  1 found"
    finally:
        screen.page = 60
        k.tap(key_button(k, "×"))


def test_search_says_more_than_the_cap_where_counting_stopped(at_attract):
    """A query counted at each key stops counting at the screen's cap: the hint says "more
    than" the cap, in Chinese and in English, never a number that is not the count."""
    k = at_attract
    k.touch_to_start()
    k.tap(k.widget("home", "ebooks"))
    k.tap(k.widget("ebooks", "search"))
    screen = k.current()
    screen.page, screen.count_cap = 2, 3
    try:
        k.tap(key_button(k, "×"))
        for letter in "zhong":  # five letters: counted at each key, not when written
            k.tap(key_button(k, letter))
        assert screen.library.found("zhong", 3).more
        results = k.widget("ebook_search", "results")
        k.until(lambda: screen.query == "zhong" and len(results.data) == 2)
        header = k.widget("ebook_search", "header")
        assert header.title == "zhong  ·  找到超过 3 本，显示前 2 本"
        k.screenshot("ebook-search-more-than")
        k.app.runtime.send(ev.SetLanguage("en"))
        k.frames(3)
        assert header.title == "zhong  ·  More than 3 found, showing the first 2"
        k.screenshot("ebook-search-more-than-en")
    finally:
        screen.page, screen.count_cap = 60, 1000
        k.tap(key_button(k, "×"))


def test_find_a_title_by_pinyin_initials_scan_its_code_and_download_it(at_attract):
    """Issue 4's journey: the batch applied at start, `hlm` typed on the screen's keyboard,
    the QR code read off a screenshot, the file fetched through the link and checked."""
    import hashlib
    import json

    import requests
    k = at_attract
    k.touch_to_start()
    k.tap(k.widget("home", "ebooks"))
    assert k.screen == "ebooks"
    k.tap(k.widget("ebooks", "search"))
    assert k.screen == "ebook_search"
    for letter in "hlm":
        k.tap(key_button(k, letter))
    assert k.current().query == "hlm"
    results = k.widget("ebook_search", "results")
    k.until(lambda: results.data and results.data[0]["text"].startswith("红楼梦"))
    k.screenshot("ebook-search")
    shown = lambda: [v for v in results.children[0].children if v.title_id == "000001"]  # noqa
    k.until(lambda: shown())  # the RecycleView lays its rows out a frame after its data
    row = shown()[0]
    k.tap_at(*row.to_window(*row.center))
    assert k.screen == "ebook_title" and "红楼梦" in k.texts() and "曹雪芹" in k.texts()
    picture = k.screenshot("ebook-title")
    link = k.current().link
    assert decoded(picture) == [link]  # read off the screen, as a phone camera would
    manifest = json.loads((k.batch / "manifest.json").read_text("utf-8"))
    expected = next(t["file"]["sha256"] for t in manifest["titles"] if t["id"] == "000001")
    answer = requests.get(link, timeout=10)
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).hexdigest() == expected
    assert requests.get(link[:-2] + "00", timeout=10).status_code == 403  # tampered
    signer = k.app.runtime.download_server.signer
    expired = signer.link("000001", now=0)
    assert requests.get(expired, timeout=10).status_code == 410
    k.until(lambda: ("ebook_download", "ok") in journal_rows(k))
    k.tap(k.widget("ebook_title", "back"))
    assert k.screen == "ebook_search"
    k.tap(k.widget("ebook_search", "back"))
    assert k.screen == "ebooks"
    rows = journal_rows(k)
    for row in (("ebook_view", "ok"), ("ebook_qr", "ok"), ("search", "ok"),
                ("ebook_download", "ok"), ("ebook_download", "bad signature"),
                ("ebook_download", "expired")):
        assert row in rows


def test_the_title_page_offers_the_library_wifi_code(at_attract):
    k = at_attract
    k.touch_to_start()
    k.tap(k.widget("home", "ebooks"))
    k.app.runtime.send(ev.OpenTitle("000002"))
    k.frames(3)
    assert k.screen == "ebook_title"
    k.tap(k.widget("ebook_title", "wifi"))
    picture = k.screenshot("ebook-title-wifi")
    assert decoded(picture) == [r"WIFI:T:WPA;S:Liling-Library;P:read\;more;;"]
    k.tap(k.widget("ebook_title", "wifi"))
    assert decoded(k.screenshot("ebook-title-again")) == [k.current().link]


def test_the_title_page_names_publisher_isbn_size_and_how_long_the_link_works(at_attract):
    import json
    import time
    from urllib.parse import parse_qs, urlsplit

    from kiosk.ui.typescale import PX
    k = at_attract
    k.touch_to_start()
    k.tap(k.widget("home", "ebooks"))
    k.app.runtime.send(ev.OpenTitle("000001"))
    k.frames(3)
    titles = json.loads((k.batch / "manifest.json").read_text("utf-8"))["titles"]
    entry = next(t for t in titles if t["id"] == "000001")
    assert entry["publisher"]  # the sample names one
    field = lambda name: k.widget("ebook_title", name).text  # noqa: E731
    assert field("publisher") == f"出版社：{entry['publisher']}"
    assert field("isbn") == f"ISBN {entry['isbn']}"
    assert field("facts").startswith(f"EPUB · {max(0.1, entry['file']['size'] / 2**20):.1f} MB")
    assert field("link_life") == "链接 30 分钟内有效"
    expiry = int(parse_qs(urlsplit(k.current().link).query)["e"][0])
    assert abs(expiry - time.time() - 30 * 60) < 60  # what the page says is what the link does
    assert k.widget("ebook_title", "cover").width >= PX["cover"] * 1.25  # larger than a shelf's
    k.screenshot("ebook-title-fields")
    k.app.runtime.send(ev.SetLanguage("en"))
    k.frames(3)
    assert field("publisher") == f"Publisher: {entry['publisher']}"
    assert field("link_life") == "The link works for 30 minutes"
    k.screenshot("ebook-title-fields-en")


def test_a_download_server_that_cannot_listen_shows_a_message_not_a_code(at_attract):
    from kiosk.ebooks.download_server import DownloadServer
    k = at_attract
    links = k.app.runtime.library.downloads
    running = links.server
    blocked = DownloadServer(links.signer, running.catalogue_root, lambda *a: None,
                             "127.0.0.1", running.port)
    with pytest.raises(OSError):
        blocked.start()  # the port is taken (by the running server): as at a kiosk's start
    links.server = blocked
    try:
        k.touch_to_start()
        k.tap(k.widget("home", "ebooks"))
        k.app.runtime.send(ev.OpenTitle("000003"))
        k.frames(3)
        screen = k.current()
        assert screen.link == "" and screen.shown_qr is None
        message = k.widget("ebook_title", "unavailable").text
        assert message.index("暂时无法下载") < message.index("Downloads are unavailable")
        assert decoded(k.screenshot("ebook-title-downloads-unavailable")) == []
        k.until(lambda: ("ebook_qr", "server_unavailable") in journal_rows(k))
    finally:
        links.server = running


def test_shelves_show_covers_and_scroll_through_the_catalogue(at_attract):
    k = at_attract
    k.touch_to_start()
    k.tap(k.widget("home", "ebooks"))
    k.app.runtime.send(ev.ShowShelf("all"))
    k.frames(3)
    grid = k.widget("ebooks", "grid")
    shown = [row["title_id"] for row in grid.data]
    import datetime as dt
    import json
    today = dt.date.today().isoformat()
    titles = json.loads((k.batch / "manifest.json").read_text("utf-8"))["titles"]
    assert len(shown) == sum(t["valid_from"] <= today <= t["valid_until"] for t in titles)
    cells = lambda: [c for c in grid.children[0].children if c.texture is not None]  # noqa
    k.until(lambda: len(cells()) >= 6)
    k.screenshot("ebooks-all")
    grid.scroll_y = 0
    k.until(lambda: any(c.title_id == shown[-1] and c.texture for c in cells()))
    k.app.runtime.send(ev.ShowShelf("children"))
    k.frames(3)
    assert all(row["title_id"] in shown for row in grid.data) and grid.scroll_y == 1


def test_admin_lists_what_the_ils_refused_and_staff_mark_each_dealt_with(at_attract):
    from datetime import datetime, timezone

    from kiosk.ils.offline_store import open_for
    k = at_attract
    when = datetime(2026, 11, 24, 6, 5, tzinfo=timezone.utc)
    with open_for(k.app.runtime.config) as store:
        sent = store.add("checkout", CARD, "33520000123453", when)
        on_hold = store.add("checkout", CARD, "33520000123461", when, title="红楼梦")
        blocked = store.add("checkin", None, "33520000123479", when)
        store.settle(sent, "sent")
        store.settle(on_hold, "refused", "Item on hold for another patron")
        store.settle(blocked, "refused")
    k.hold_at(20, 470, 1.3)
    k.app.runtime.send(ev.PinSubmitted(PIN))
    k.until(lambda: k.screen == "admin")
    admin = k.current()
    k.until(lambda: admin.view.status is not None)
    offline = lambda: [r for r in admin.rows if r.get("viewclass") == "OfflineRow"]  # noqa
    assert [r["offline_id"] for r in offline()] == [on_hold, blocked]
    listing = k.widget("admin", "status")
    listing.scroll_y = 0  # the list sits under the checks
    k.frames(5)
    local = when.astimezone().strftime("%Y-%m-%d %H:%M")
    assert k.shows(f"{local}  借书  33520000123461 红楼梦")
    assert k.shows("读者证 **********4566  Item on hold for another patron")
    assert k.shows(f"{local}  还书  33520000123479") and k.shows("未说明原因")
    # The heading above them, in the list (scrolled out of sight above the two rows).
    assert {"viewclass": "OfflineHeading", "text": "补发时被图书馆系统拒绝：2 笔"} in admin.rows
    assert not k.shows(CARD)
    k.screenshot("admin-offline-refused")
    buttons = lambda: {row.offline_id: button for row in listing.children[0].children  # noqa
                       if hasattr(row, "offline_id") for button in row.children
                       if hasattr(button, "tint")}  # the "dealt with" button of each row
    # Tapped where it shows: the driver's scroll_to trips over RecycleView's layout trigger.
    press = lambda button: k.tap_at(*button.to_window(*button.center))  # noqa
    press(buttons()[on_hold])
    k.until(lambda: [r["offline_id"] for r in offline()] == [blocked])
    assert journal_rows(k)[-1] == ("admin", "offline_acknowledged")
    k.app.runtime.send(ev.SetLanguage("en"))
    k.frames(3)
    assert k.shows("Refused by the library system when sent later: 1") and k.shows("Dealt with")
    press(buttons()[blocked])
    k.until(lambda: offline() == [])
    check = next(c for c in admin.view.status.checks if c.name == "offline")
    assert check.ok and check.summary.args == {"pending": 0, "refused": 0}
    with open_for(k.app.runtime.config) as store:
        assert store.refused() == []
    k.tap(k.widget("admin", "exit"))
    assert k.screen == "attract"
