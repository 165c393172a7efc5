"""The fleet's e-book catalogue column and the titles report in a real browser (headless
Chromium from Debian, driven by selenium): staff find the report from the figures page, read
it in Chinese and English and download the workbook. Screenshots in artifacts/i17/ for a
person to look at."""

import openpyxl
import pytest

from tests import test_central_browser as central_browser
from tests.central_server import PASSWORD
from tests.conftest import ARTIFACTS
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


def sign_in(driver, url, path):
    from selenium.webdriver.common.by import By
    driver.get(url + path)
    driver.find_element(By.ID, "name").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    arrive(driver, lambda d: d.current_url.endswith(path))


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
