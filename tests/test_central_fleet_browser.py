"""The fleet page and the half-year chart in a real browser (headless Chromium from Debian,
driven by selenium), at a desk screen's 1366x768 and a phone's 390x844: times in the library's
zone and in words, an unsynchronised clock as a warning (its own colour, after the faults), a
half-year charted by week. Screenshots in artifacts/fleet/ for a person to look at."""

import datetime as dt

import pytest

from central.fleet import parse_utc
from central.storage import Storage
from tests import test_central_browser as central_browser
from tests.central_server import database_url, seed_network, serve
from tests.conftest import ARTIFACTS
from tests.test_central_browser import sign_in

SHOTS = ARTIFACTS / "fleet"
browser = central_browser.browser
arrive = central_browser.arrive
AMBER = "rgba(161, 98, 7, 1)"  # --warn


@pytest.fixture
def network(tmp_path):
    """The seed network, with liling-ebook's clock unsynchronised and liling-lobby-1's last
    heartbeat 65 minutes old (silent only after 240 here)."""
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path, silent_after_min=240) as running:
            seed_network(running)
            entries = {e.kiosk.id: e for e in storage.fleet(["liling-ebook", "liling-lobby-1"])}
            storage.store_heartbeat("liling-ebook", {**entries["liling-ebook"].heartbeat,
                                                     "clock_synced": False})
            running.clock[0] = max(parse_utc(e.heartbeat_utc) for e in storage.fleet(
                [k.id for k in storage.kiosks()]) if e.heartbeat_utc) + dt.timedelta(seconds=20)
            older = running.clock[0] - dt.timedelta(minutes=65)
            with storage.db.write() as conn:
                conn.execute("UPDATE heartbeats SET received_utc = ? WHERE kiosk_id = ?",
                             (older.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "liling-lobby-1"))
            yield running
    finally:
        storage.close()


def viewport(driver, width, height):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_fleet_times_warnings_and_a_half_year_by_week(browser, network):
    from selenium.webdriver.common.by import By
    sign_in(browser, network.url)
    for width, height in ((1366, 768), (390, 844)):
        viewport(browser, width, height)
        browser.get(network.url + "/fleet")
        assert "Asia/Shanghai (UTC+08:00)" in browser.find_element(By.ID, "zone").text
        rows = {r.get_attribute("data-kiosk"): r for r in
                browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")}
        assert list(rows) == ["village-sanhe", "liling-children", "liling-ebook",
                              "liling-lobby-1"]  # silent, fault, warning, healthy
        ebook = rows["liling-ebook"]
        badge = ebook.find_element(By.CSS_SELECTOR, ".badge")
        assert badge.text == "警告" and badge.value_of_css_property("background-color") == AMBER
        warning = ebook.find_element(By.CSS_SELECTOR, ".problem.warning")
        assert "自助机时钟未同步" in warning.text
        assert warning.value_of_css_property("color") == AMBER
        fault = rows["liling-children"].find_element(By.CSS_SELECTOR, ".badge")
        assert fault.text == "故障" and fault.value_of_css_property("background-color") != AMBER
        assert rows["liling-children"].find_element(By.CSS_SELECTOR, ".age").text.startswith(
            "刚刚")
        assert rows["liling-lobby-1"].find_element(By.CSS_SELECTOR, ".age").text.startswith(
            "1 小时 5 分钟前")
        # no menu entry breaks inside ("账\n户与审计" at 390 px): each is one box on one line
        assert browser.execute_script(
            "return [...document.querySelectorAll('header nav a')]"
            ".filter(a => a.getClientRects().length != 1).map(a => a.textContent)") == []
        # the page never scrolls sideways: the wide table scrolls inside its card
        assert browser.execute_script(
            "return document.documentElement.scrollWidth") <= width
        shot(browser, f"fleet-{width}x{height}")
        viewport(browser, width, browser.execute_script("return document.body.scrollHeight"))
        shot(browser, f"fleet-{width}-whole")

    viewport(browser, 1366, 768)
    browser.get(network.url + "/figures?from=2026-05-28&to=2026-11-24")
    card = browser.find_element(By.ID, "per-period")
    assert card.find_element(By.TAG_NAME, "h2").text == "每周借还书"
    bars = card.find_elements(By.CSS_SELECTOR, "svg.chart rect.s-loans title")
    assert len(bars) == 27
    assert any(b.size["height"] > 20 for b in card.find_elements(By.CSS_SELECTOR,
                                                                 "svg.chart rect.s-loans"))
    browser.execute_script("arguments[0].scrollIntoView()", card)
    shot(browser, "figures-half-year-1366x768")
