"""The kiosk picker with 300 kiosks in six libraries, in a real browser (headless Chromium
from Debian, driven by selenium): the filter narrows the grouped list by kiosk id, service
point or library, Enter and the keyboard choose, a whole library stays a choice, and with
scripts off the grouped select alone works. Screenshots at 1366x768 and 390x844 in
artifacts/ for a person to look at."""

import datetime as dt
import re
import uuid

import pytest

from central.storage import CountRow, Storage, TitleInfo
from tests import test_central_browser as central_browser
from tests.central_server import PASSWORD, add_kiosk, add_user, database_url, serve
from tests.conftest import ARTIFACTS
from tests.test_central_browser import sign_in

pytestmark = pytest.mark.slow  # a browser start and 300 kiosks: about 15 s
browser = central_browser.browser
arrive = central_browser.arrive

LIBRARIES = [("醴陵市图书馆", "liling", 180), ("株洲市图书馆", "zhuzhou", 40),
             ("攸县图书馆", "youxian", 30), ("茶陵县图书馆", "chaling", 25),
             ("炎陵县图书馆", "yanling", 15), ("三合村图书室", "sanhe", 10)]
POINTS = ["借阅台", "少儿阅览室", "电子阅览室", "自习室"]
LOANS = {"liling-017": 11, "sanhe-03": 5, "sanhe-07": 2}  # everyone else lent nothing
PERIOD = "from=2026-11-01&to=2026-11-30"
TODAY = dt.date.today()


def place(prefix, i):
    return "" if prefix == "sanhe" else POINTS[i % len(POINTS)]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("picker")
    storage = Storage.open(database_url("sqlite", tmp))
    for library, prefix, n in LIBRARIES:
        for i in range(1, n + 1):
            add_kiosk(storage, f"{prefix}-{i:0{3 if n >= 100 else 2}d}", library, place(prefix, i))
    storage.revoke_kiosk("liling-180")
    add_user(storage, "admin", "admin", "醴陵市图书馆", PASSWORD)
    for kiosk_id, n in LOANS.items():
        storage.ingest(kiosk_id, str(uuid.uuid4()), 1, n, [
            CountRow("2026-11-05", 10, "checkout", "ok", None, n)])
    until = (TODAY + dt.timedelta(days=9)).isoformat()
    storage.store_titles("sanhe-03", "2026-12-1", [
        TitleInfo("000007", "家常菜谱", "", "life", "2026-01-01", until)])
    storage.store_titles("liling-017", "2026-12-1", [
        TitleInfo("000001", "红楼梦", "曹雪芹", "classics", "2026-01-01", until)])
    try:
        with serve(storage, tmp) as running:
            yield running
    finally:
        storage.close()


def options(driver):
    """The kiosks the list offers now (not "all", not a whole library), and its groups."""
    from selenium.webdriver.common.by import By
    values = [o.get_attribute("value") for o in
              driver.find_elements(By.CSS_SELECTOR, "#kiosk-pick option")]
    groups = [g.get_attribute("label") for g in
              driver.find_elements(By.CSS_SELECTOR, "#kiosk-pick optgroup")]
    return [v for v in values if v and not v.startswith("library:")], groups


def loans(driver):
    from selenium.webdriver.common.by import By
    return int(driver.find_element(By.ID, "total-loans").text.replace(",", ""))


def shot(driver, name, width, height):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(ARTIFACTS / f"picker-{name}-{width}x{height}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_filter_narrows_and_choosing_works(browser, fleet):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    sign_in(browser, fleet.url)
    browser.get(f"{fleet.url}/figures?{PERIOD}")
    kiosks, groups = options(browser)
    assert len(kiosks) == 300 and groups == sorted(name for name, _p, _n in LIBRARIES)
    assert loans(browser) == sum(LOANS.values())
    field = browser.find_element(By.ID, "kiosk-filter")
    assert field.is_displayed()
    label = browser.find_element(By.CSS_SELECTOR, "label[for=kiosk-filter]")
    assert label.text.startswith("筛选自助机")
    assert browser.find_element(By.CSS_SELECTOR, "label[for=kiosk-pick]").text.startswith(
        "自助机或图书馆")
    select = browser.find_element(By.ID, "kiosk-pick")

    # A library's name: its kiosks and the whole library, chosen first; Enter shows it.
    field.send_keys("三合")
    kiosks, groups = options(browser)
    assert kiosks == [f"sanhe-{i:02d}" for i in range(1, 11)] and groups == ["三合村图书室"]
    assert select.get_attribute("value") == "library:三合村图书室"
    status = browser.find_element(By.ID, "kiosk-filter-status").text
    assert status == "300 台自助机中有 10 台符合"
    shot(browser, "figures-filtered", 1366, 768)
    shot(browser, "figures-filtered", 390, 844)
    field.send_keys(Keys.ENTER)
    arrive(browser, lambda d: "library%3A" in d.current_url)
    assert loans(browser) == 7
    select = browser.find_element(By.ID, "kiosk-pick")
    assert select.get_attribute("value") == "library:三合村图书室"  # the page says what it shows
    csv = browser.find_element(By.ID, "download-csv").get_attribute("href")
    assert "kiosk=library%3A" in csv

    # Words of an id and a service point, all of them; Down to the list, Enter there.
    field = browser.find_element(By.ID, "kiosk-filter")
    field.send_keys("株洲 少儿")
    kiosks, groups = options(browser)
    assert kiosks == [f"zhuzhou-{i:02d}" for i in range(1, 41) if i % 4 == 1]
    assert groups == ["株洲市图书馆"]
    field.send_keys(Keys.ESCAPE)
    assert len(options(browser)[0]) == 300  # Escape brings every kiosk back
    field.send_keys("LILING-017")
    assert options(browser)[0] == ["liling-017"]
    field.send_keys(Keys.ARROW_DOWN)
    select = browser.find_element(By.ID, "kiosk-pick")
    assert browser.switch_to.active_element == select
    assert select.get_attribute("value") == "liling-017"
    select.send_keys(Keys.ENTER)
    arrive(browser, lambda d: d.current_url.endswith("kiosk=liling-017"))
    assert loans(browser) == 11
    report = browser.find_element(By.ID, "report").text
    assert "醴陵市图书馆" in report and "三合村图书室" not in report

    field = browser.find_element(By.ID, "kiosk-filter")
    field.send_keys("no-such-kiosk")
    assert options(browser) == ([], [])
    assert browser.find_element(By.ID, "kiosk-filter-status").text == "没有符合的自助机。"

    # The revoked kiosk is still there (its counts belong to the figures), and says so.
    field.send_keys(Keys.ESCAPE)
    field.send_keys("liling-180")
    assert "（已停用）" in browser.find_element(
        By.CSS_SELECTOR, "#kiosk-pick option[value='liling-180']").text

    # The titles report takes the same picker.
    browser.get(f"{fleet.url}/figures/titles")
    assert len(options(browser)[0]) == 300
    field = browser.find_element(By.ID, "kiosk-filter")
    field.send_keys("三合")
    shot(browser, "titles-filtered", 1366, 768)
    shot(browser, "titles-filtered", 390, 844)
    field.send_keys(Keys.ENTER)
    arrive(browser, lambda d: "library%3A" in d.current_url)
    ending = browser.find_element(By.ID, "ending").text
    assert "家常菜谱" in ending and "红楼梦" not in ending
    assert "library%3A" in browser.find_element(By.ID, "titles-xlsx").get_attribute("href")


def test_without_scripts_the_grouped_select_works(browser, fleet):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    sign_in(browser, fleet.url)
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    browser.get(f"{fleet.url}/figures?{PERIOD}")
    assert not browser.find_element(By.ID, "kiosk-filter").is_displayed()
    kiosks, groups = options(browser)
    assert len(kiosks) == 300 and len(groups) == 6
    shot(browser, "figures-no-script", 1366, 768)
    shot(browser, "figures-no-script", 390, 844)
    Select(browser.find_element(By.ID, "kiosk-pick")).select_by_value("sanhe-03")
    browser.find_element(By.CSS_SELECTOR, "form.pick button[type=submit]").click()
    arrive(browser, lambda d: d.current_url.endswith("kiosk=sanhe-03"))
    assert loans(browser) == 5
    Select(browser.find_element(By.ID, "kiosk-pick")).select_by_value("library:醴陵市图书馆")
    browser.find_element(By.CSS_SELECTOR, "form.pick button[type=submit]").click()
    arrive(browser, lambda d: re.search(r"kiosk=library%3A%E9%86%B4", d.current_url))
    assert loans(browser) == 11
