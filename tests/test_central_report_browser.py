"""The fleet's e-book catalogue column and the titles report in a real browser (headless
Chromium from Debian, driven by selenium): staff find the report from the figures page, read
it in Chinese and English and download the workbook. Screenshots in artifacts/i17/ for a
person to look at."""

import openpyxl
import pytest

from tests import test_central_browser as central_browser
from tests.conftest import ARTIFACTS
from tests.test_central_browser import sign_in
from tests.test_central_fleet_catalogue import fill_fleet
from tests.test_central_fleet_catalogue import server as fleet_server  # noqa: F401 (fixture)
from tests.test_central_title_report import server  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow  # a browser start each: about 7 s
browser = central_browser.browser
arrive = central_browser.arrive
SHOTS = ARTIFACTS / "i17"


def shot(driver, name, height=900):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(1280, height)
    driver.save_screenshot(str(SHOTS / f"report-{name}.png"))


def test_the_fleet_shows_each_kiosks_catalogue(browser, fleet_server):  # noqa: F811
    from selenium.webdriver.common.by import By
    fill_fleet(fleet_server)
    sign_in(browser, fleet_server.url, "/fleet")
    cell = browser.find_element(By.CSS_SELECTOR, '[data-kiosk="liling-children"] td.catalogue')
    assert "落后：最新批次为 2026-12" in cell.text
    assert "正在下载电子书批次 2026-12：75%" in cell.text
    assert cell.size["width"] > 100
    assert browser.find_element(By.ID, "behind-tile").text.endswith("2")
    shot(browser, "1-fleet-zh")
    browser.find_element(By.LINK_TEXT, "English").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Fleet")
    shot(browser, "2-fleet-en")


def test_staff_find_read_and_download_the_titles_report(browser, server, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    sign_in(browser, server.url, "/figures")
    browser.get(server.url + "/figures?from=2026-11-01&to=2026-11-30")
    categories = browser.find_element(By.ID, "ebooks-categories")
    names = [r.find_element(By.TAG_NAME, "td").text
             for r in categories.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert names == ["生活", "经典名著", "（未分类）"]  # names, never the batch's keys
    browser.execute_script("arguments[0].scrollIntoView()", categories)
    shot(browser, "0-figures-categories-zh")
    browser.find_element(By.ID, "titles-report").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "电子书报表")
    browser.get(server.url + "/figures/titles?month=2026-11")
    rows = browser.find_elements(By.CSS_SELECTOR, "#ending tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows] == [
        "中老年人健康手册", "红楼梦", "家常菜谱", "=SUM(A1:A9)"]  # the admin: both libraries
    assert "village-old" in browser.find_element(By.ID, "undated").text
    assert [r.find_elements(By.TAG_NAME, "td")[4].text for r in rows] == [
        "健康养生", "经典名著", "生活", "生活"]
    shot(browser, "3-titles-zh", height=1500)
    browser.find_element(By.ID, "titles-xlsx").click()
    workbook = central_browser.wait_for_file(tmp_path / "downloads", ".xlsx")
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["许可即将到期", "浏览最多", "下载最多"]
    assert book["浏览最多"]["C4"].value == "家常菜谱"
    browser.find_element(By.LINK_TEXT, "English").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Titles report")
    assert "Everyday life" in browser.find_element(By.ID, "most-viewed").text
    shot(browser, "4-titles-en", height=1500)


@pytest.fixture
def counted(tmp_path):
    """Kiosks of two libraries, one lending offline, one older, their counts uploaded."""
    from central.storage import Storage
    from tests.central_server import database_url, serve
    from tests.test_central_figures import upload
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path) as running:
            upload(running)
            yield running
    finally:
        storage.close()


def test_the_half_year_table_by_library_in_the_browser(browser, counted):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    sign_in(browser, counted.url, "/figures")
    browser.get(counted.url + "/figures?from=2026-01-01&to=2026-06-30")
    tiles = {t.find_element(By.CLASS_NAME, "muted").text: t.find_element(By.CLASS_NAME, "v").text
             for t in browser.find_elements(By.CSS_SELECTOR, ".tiles .tile")}
    assert tiles == {"自助机使用次数": "13", "借书": "15", "还书": "9", "借还合计": "24",
                     "续借": "3", "电子书浏览": "4", "扫码": "2", "电子书下载": "1"}
    report = browser.find_element(By.ID, "report")
    subtotals = report.find_elements(By.CSS_SELECTOR, "tr.subtotal")
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in subtotals] == ["小计", "小计"]
    assert subtotals[0].find_element(By.TAG_NAME, "td").value_of_css_property(
        "font-weight") == "700"
    old = browser.find_element(By.ID, "old-replays")
    assert "已补传至图书馆系统" in old.text and "3" in old.text
    shot(browser, "5-figures-by-library-zh", height=3600)
    Select(browser.find_element(By.ID, "kiosk-pick")).select_by_value("library:三合村图书室")
    browser.find_element(By.CSS_SELECTOR, "form.pick button").click()
    arrive(browser, lambda d: "kiosk=library" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#report tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows] == ["三合村图书室", "合计"]
    assert browser.find_element(By.ID, "total-loans").text == "4"  # 5 lent offline, 1 refused
    browser.get(counted.url + "/figures?library=%E9%86%B4%E9%99%B5")  # 醴陵: no such library
    message = browser.find_element(By.ID, "unknown-library")
    assert "没有名为 醴陵 的图书馆" in message.text and message.is_displayed()
    assert not browser.find_elements(By.ID, "report")
    shot(browser, "6-figures-unknown-library-zh")
