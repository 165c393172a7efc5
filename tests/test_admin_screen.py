"""The staff admin screen in the real app under Xvfb, with real faults (an unplugged RFID pad, a
library system nobody answers for, a central server on 127.0.0.1 that refuses on cue): what is
wrong comes first under a count a technician sees without scrolling, every word is Chinese in
Chinese, "Upload now" shows that it runs and then what came of it, and the download server has
its row."""

from __future__ import annotations

import os
import re
import socket

import pytest

from tests.embedded_kiosk import embedded_kiosk  # noqa: E402

if not os.environ.get("DISPLAY"):
    if os.environ.get("CI"):
        raise RuntimeError("UI tests need a display: run them through ./setup.sh test (Xvfb)")
    pytest.skip("no display: run ./setup.sh test, which starts Xvfb", allow_module_level=True)

from kiosk.core import events as ev  # noqa: E402
from tests.counting_server import TOKEN, CountingServer  # noqa: E402
from tests.staff_pin import staff_hash  # noqa: E402

PIN = "2580"
pytestmark = pytest.mark.ui


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    data = tmp_path_factory.mktemp("kiosk-data")
    central = CountingServer().__enter__()
    token = data / "central.token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    path = data / "kiosk.toml"
    downloads = free_port()
    path.write_text(f"""
[kiosk]
data_dir = "{data}"
[idle]
timeout_s = 3600
[admin]
pin_hash = "{staff_hash(PIN)}"
[devices]
scanner = "sim:scanner"
rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"
[ebooks]
serve = true
listen = "127.0.0.1"
port = {downloads}
download_base = "http://127.0.0.1:{downloads}"
[ils]
host = "127.0.0.1"
port = {free_port()}
timeout_s = 0.5
retries = 0
[central]
url = "{central.url}"
token_path = "{token}"
pause_s = 0.0
timeout_s = 5.0
retries = 0
""", encoding="utf-8")
    with embedded_kiosk(path, demo=False) as driver:
        runtime = driver.app.runtime
        driver.central = central
        driver.frames(5)
        runtime.drivers["rfid"].twin.unplug()  # a device fault staff must see
        driver.until(lambda: runtime.view.devices.get("rfid") is not None
                     and runtime.view.devices["rfid"].state == "lost", timeout=10)
        yield driver
    central.__exit__(None, None, None)


@pytest.fixture
def admin(kiosk):
    """The admin screen in Chinese, its checks gathered, its list at the top."""
    runtime = kiosk.app.runtime
    runtime.send(ev.EndSession())
    runtime.send(ev.SetLanguage("zh_CN"))
    screen = kiosk.open_admin(runtime, PIN)
    kiosk.frames(5)
    screen.ids.status.scroll_y = 1
    kiosk.frames(3)
    return screen


def on_screen(kiosk, widget) -> bool:
    """Whether `widget` lies inside the window and, in a scrolling list, inside its view."""
    from kivy.core.window import Window
    x, y = widget.to_window(widget.x, widget.y)
    inside = 0 <= x and 0 <= y and x + widget.width <= Window.width + 1 \
        and y + widget.height <= Window.height + 1
    rv = kiosk.widget("admin", "status")
    if inside and widget.parent is rv.children[0]:
        rx, ry = rv.to_window(rv.x, rv.y)
        inside = ry - 1 <= y and y + widget.height <= ry + rv.height + 1
    return inside


def test_faults_come_first_under_a_count_seen_without_scrolling(kiosk, admin):
    rows = [r for r in admin.rows if "verdict" in r]
    verdicts = [r["verdict"] for r in rows]
    faults = verdicts.count("故障")
    assert faults >= 2, verdicts  # the RFID pad and the library system at least
    ranks = [0 if v == "故障" else 1 if v == "注意" else 2 for v in verdicts]
    assert ranks == sorted(ranks), verdicts  # faults, then what to look at, then the rest
    assert admin.rows[0]["verdict"] == "故障"
    names = [r["name"] for r in rows[:faults]]
    assert "RFID 感应区" in names and "图书馆系统 (SIP2)" in names, names
    ils = next(r for r in rows if r["name"] == "图书馆系统 (SIP2)")
    assert ils["summary"].startswith("无法连接 127.0.0.1:") and "：连接被拒绝" in ils["summary"]
    headline = kiosk.widget("admin", "headline")
    assert headline.text.startswith(f"{faults} 项故障"), headline.text
    assert on_screen(kiosk, headline)
    first = max(kiosk.widget("admin", "status").children[0].children, key=lambda v: v.top)
    assert first.name == rows[0]["name"] and on_screen(kiosk, first)
    kiosk.screenshot("admin-faults-first")
    kiosk.app.runtime.send(ev.SetLanguage("en"))
    kiosk.frames(3)
    assert headline.text.startswith(f"{faults} faults"), headline.text
    assert admin.rows[0]["verdict"] == "FAULT"


# Shown as they are in either language: what identifies a thing, not words to translate.
ACRONYMS = {"SIP2", "USB", "QR", "HTTP", "SD", "PIN", "RFID", "ILS", "MB", "GB", "KB", "ID",
            "IP", "URL", "NTP", "ISBN", "Python", "kiosk", "journalctl", "timedatectl",
            "systemctl", "dmesg", "Koha", "Evergreen"}
IDENTIFIERS = [
    # a command and its arguments: kiosk content apply BATCH.tar, timedatectl status
    r"\b(?:kiosk|journalctl|timedatectl|systemctl)(?= [a-z-]+)[A-Za-z0-9_ ./:-]*",
    r"\w+://\S+",  # addresses
    r"(?<![\w])/[\w./:@+-]*",  # paths
    r"\[\w+\](?:\s+\w+)?",  # a config section and its option: [central] url
    r"'[^']*'", r'"[^"]*"', r"`[^`]*`",  # commands quoted
    r"\b[\w.-]+:\d+\b",  # host:port
    r"\b\w+(?:[-_.]\w+)+\b",  # kiosk-pull, pin_hash, kiosk.toml, 0.1.0
    r"(?<![A-Za-z])\d+",  # numbers, not the 2 of SIP2
]


def strip(text: str, data: set[str]) -> str:
    """`text` without what came as data, longest first."""
    for value in sorted(data, key=len, reverse=True):
        if value and not value.isdigit():  # a count's digits may be part of a word
            text = text.replace(value, " ")
    return text


def english_words(text: str, data: set[str]) -> list[str]:
    text = strip(text, data)
    for pattern in IDENTIFIERS:
        text = re.sub(pattern, " ", text, flags=re.ASCII)
    words = re.findall(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*", text)
    return [w for w in words if len(w) > 1 and w not in ACRONYMS]


def shown_data(view) -> set[str]:
    """What the screen shows as it came: the checks' arguments (paths, addresses, what a
    library system or the operating system said) and what the devices report."""
    data: set[str] = set()
    for check in view.status.checks:
        for message in (check.summary, check.advice):
            if message is not None:
                data |= {str(v) for v in message.args.values()}
    data |= {d.detail for d in view.devices.values()}
    return data


def labels_of(screen) -> list:
    from kivy.uix.label import Label
    return [w for w in screen.walk(restrict=True) if isinstance(w, Label) and w.text.strip()
            and type(w).__name__ != "LanguageButton"]  # "English" offers the other language


def test_upload_now_shows_it_runs_then_what_was_sent(kiosk, admin):
    central = kiosk.central
    central.script = ["slow"]
    central.release.clear()
    button, result = kiosk.widget("admin", "upload"), kiosk.widget("admin", "upload_result")
    before = len(central.bodies)
    kiosk.tap(button)
    kiosk.until(lambda: len(central.bodies) > before)  # the batch is at the server
    assert button.disabled and button.text == "正在上传…"
    assert "正在上传" in result.text
    kiosk.tap(button)  # a second press while it runs does nothing
    kiosk.frames(3)
    kiosk.screenshot("admin-uploading")
    central.release.set()
    kiosk.until(lambda: not button.disabled, timeout=15)
    assert button.text == "立即上传"
    assert [path for path, _ in central.bodies[before:]].count("/api/v1/counts") == 1
    assert re.search(r"已上传 \d+ 条记录（\d+ 项统计）", result.text), result.text
    kiosk.screenshot("admin-uploaded")
    kiosk.app.runtime.send(ev.SetLanguage("en"))
    kiosk.frames(3)
    assert re.search(r"Sent \d+ rows? as \d+ counts?", result.text), result.text


def test_a_failed_upload_says_why_in_plain_words(kiosk, admin):
    kiosk.central.script = ["401"]
    button, result = kiosk.widget("admin", "upload"), kiosk.widget("admin", "upload_result")
    kiosk.tap(button)
    kiosk.until(lambda: not button.disabled and "失败" in result.text, timeout=15)
    assert re.fullmatch(r"\d\d:\d\d 上传失败：中心服务器不接受本机的令牌", result.text), result.text
    kiosk.screenshot("admin-upload-failed")
    kiosk.app.runtime.send(ev.SetLanguage("en"))
    kiosk.frames(3)
    assert result.text.endswith(" Upload failed: the central server does not accept this "
                                "kiosk's token"), result.text


def test_the_download_server_has_a_row_saying_where_the_codes_point(kiosk, admin):
    links = kiosk.app.runtime.library.downloads
    row = next(r for r in admin.rows if r.get("name") == "电子书下载服务器")
    base = links.base()
    assert f"127.0.0.1:{links.server.port}" in row["summary"] and base in row["summary"]
    assert "可以访问" in row["summary"], row["summary"]
    # The codes sent to an address where nothing answers (as a wrong address would).
    links.local_host = "127.0.0.2"
    try:
        admin.send(ev.RefreshStatus())
        kiosk.until(lambda: any(r.get("name") == "电子书下载服务器" and r["verdict"] == "故障"
                                for r in admin.rows), timeout=15)
        row = next(r for r in admin.rows if r.get("name") == "电子书下载服务器")
        assert "无法访问" in row["summary"] and "127.0.0.2" in row["summary"], row["summary"]
        assert admin.rows.index(row) < [r.get("verdict") for r in admin.rows].index("正常")
    finally:
        links.local_host = ""


def test_in_chinese_no_english_word_shows_where_chinese_should(kiosk, admin):
    """Every label, the list walked from top to bottom: English words only where they name
    a thing (an address, a path, a command, a config option) or repeat what it reported.
    Last in this file: the upload's result line is there too."""
    assert kiosk.widget("admin", "upload_result").text  # what the upload tests left
    data = shown_data(admin.view)
    found = {text: words for text in walked(kiosk, admin)
             if (words := english_words(text, data))}
    assert found == {}


def test_in_english_no_chinese_shows(kiosk, admin):
    kiosk.app.runtime.send(ev.SetLanguage("en"))
    kiosk.frames(3)
    data = shown_data(admin.view)
    found = [text for text in walked(kiosk, admin)
             if re.search(r"[\u4e00-\u9fff]", strip(text, data))]
    assert found == []
    assert kiosk.widget("admin", "headline").text.endswith(("faults", "to look at"))


def walked(kiosk, admin) -> set[str]:
    """Every label's text on the screen, the list scrolled from its top to its bottom."""
    rv = admin.ids.status
    texts: set[str] = set()
    for step in range(12):
        rv.scroll_y = max(0.0, 1 - step / 11)
        kiosk.frames(3)
        texts |= {label.text for label in labels_of(admin)}
    return texts
