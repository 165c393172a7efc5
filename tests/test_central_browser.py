"""The staff pages in a real browser: headless Chromium from Debian, driven by selenium. Signs
in, reads the fleet and the figures in Chinese, switches to English, downloads the CSV, and
leaves screenshots in artifacts/central/ for a person to look at."""

import csv
import io
import os
import shutil
import time

import pytest

from central.storage import Storage
from tests.central_server import PASSWORD, database_url, seed_network, serve
from tests.conftest import ARTIFACTS

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SHOTS = ARTIFACTS / "central"


def chromium_options(tmp_path, *flags: str):
    """Headless Chromium's options for a test, with a profile of its own in `tmp_path`; a
    missing Chromium fails the test in CI and skips it elsewhere."""
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed (setup.sh installs them)")
        pytest.skip("chromium and chromium-driver are not installed")
    from selenium import webdriver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}", "--lang=zh-CN", *flags):
        options.add_argument(flag)
    return options


def chromium(options):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def browser(tmp_path):
    options = chromium_options(tmp_path, "--window-size=1280,900")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(tmp_path / "downloads"),
        "download.prompt_for_download": False})
    driver = chromium(options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
        "behavior": "allow", "downloadPath": str(tmp_path / "downloads")})
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def network(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path) as running:
            seed_network(running)
            yield running
    finally:
        storage.close()


def shot(driver, name, height=None):
    SHOTS.mkdir(parents=True, exist_ok=True)
    if height:
        driver.set_window_size(1280, height)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def wait_for_file(folder, suffix, timeout=20.0):
    """The downloaded file, once whole: Chromium reserves the name with an empty file at the
    start and writes into a `.crdownload` it renames at the end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(f"*{suffix}")] if folder.exists() else []
        if found and found[0].stat().st_size and not list(folder.glob("*.crdownload")):
            return found[0]
        time.sleep(0.1)  # polling the download folder: the browser tells us nothing
    raise AssertionError(f"no {suffix} file in {folder} after {timeout} s")


def sign_in(driver, url, path="/fleet"):
    """Signs in as the administrator from `path`'s sign-in redirect, and waits to be there."""
    from selenium.webdriver.common.by import By
    driver.get(url + path)
    driver.find_element(By.ID, "name").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    arrive(driver, lambda d: d.current_url.endswith(path))


def arrive(driver, check, timeout=20.0):
    """Wait for the page a click opens: a click returns before the browser has navigated."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException)).until(check)


def test_sign_in_fleet_figures_language_and_download(browser, network, tmp_path):
    from selenium.webdriver.common.by import By
    browser.get(network.url + "/fleet")
    assert "/login" in browser.current_url
    assert browser.find_element(By.ID, "sign-in").text == "登录"
    shot(browser, "1-login")
    browser.find_element(By.ID, "name").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    arrive(browser, lambda d: d.current_url.endswith("/fleet"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "设备总览"
    rows = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")
    assert len(rows) == 4
    assert rows[0].get_attribute("data-kiosk") == "village-sanhe"  # silent kiosks come first
    assert "失联" in rows[0].text
    shot(browser, "2-fleet-zh")

    browser.get(network.url + "/figures?from=2026-11-11&to=2026-11-24")
    assert browser.find_element(By.TAG_NAME, "h1").text == "统计"
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) == 5 and all(c.size["width"] > 300 for c in charts)
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.s-loans")
    assert any(b.size["height"] > 20 for b in bars)
    shot(browser, "3-figures-zh", height=3400)

    browser.find_element(By.LINK_TEXT, "English").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "Figures")
    assert "2026-11-11" in browser.current_url  # the switch kept the page and its period
    shot(browser, "4-figures-en", height=3400)
    browser.set_window_size(1280, 900)
    browser.get(network.url + "/fleet")
    shot(browser, "5-fleet-en")

    browser.get(network.url + "/figures?from=2026-11-11&to=2026-11-24")
    browser.find_element(By.ID, "download-csv").click()
    download = wait_for_file(tmp_path / "downloads", ".csv")
    raw = download.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[2][1] == "Service point" and rows[-1][0] == "Total"
    assert "醴陵市图书馆" in {r[0] for r in rows}
