"""The E-book batches page in a real browser (headless Chromium, selenium): a village
library's staff upload a signed batch for their own library while a proxy cuts the upload's
connection and then refuses it for a while; the page retries, goes on and publishes; they
withdraw it again; an administrator sees every library's batches. Screenshots at 1280x800 in
artifacts/i17/ for a person to look at."""

import hashlib
import os
import tarfile

import pytest

from central.releases import ReleaseKind, Releases
from central.storage import Storage
from content.build import build_batch
from content.sample import make_sample_source
from content.signing import keygen
from tests import test_central_browser as central_browser
from tests.central_server import PASSWORD, add_kiosk, add_user, database_url, serve
from tests.conftest import ARTIFACTS
from tests.test_central_release_browser import CuttingProxy

SHOTS = ARTIFACTS / "i17"
LILING, SANHE = "醴陵市图书馆", "三合村图书室"
browser = central_browser.browser
arrive = central_browser.arrive


@pytest.fixture
def central(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path / "data") as running:
            add_kiosk(storage, "liling-lobby-1", LILING)
            add_kiosk(storage, "village-sanhe", SANHE, "")
            add_user(storage, "admin", "admin", LILING, PASSWORD)
            add_user(storage, "sanhe", "staff", SANHE, PASSWORD)
            running.releases = Releases(storage.db, running.config.releases_path)
            yield running
    finally:
        storage.close()


def batch_tars(folder):
    """2026-11 and 2026-12, signed; 2026-12 carries 9 MiB more, so that the page sends it in
    three chunks (the server reads only the manifest; the kiosk checks the files)."""
    keygen(folder / "signing.key", folder / "signing.pub")
    source = make_sample_source(folder / "source", count=3)
    tars = [folder / f"{name}.tar" for name in ("2026-11", "2026-12")]
    for tar in tars:
        build_batch(source, tar, folder / "signing.key", tar.stem)
    padding = folder / "padding.bin"
    padding.write_bytes(os.urandom(9 * 2**20))
    with tarfile.open(tars[1], "a") as tar:
        tar.add(padding, arcname="books/padding.bin")
    return tars


def sign_in(driver, url, name):
    from selenium.webdriver.common.by import By
    driver.delete_all_cookies()
    driver.get(url + "/batches")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    arrive(driver, lambda d: d.find_element(By.TAG_NAME, "h1").text in ("电子书批次",
                                                                        "E-book batches"))


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_staff_publish_their_librarys_batch_through_a_dropped_connection(browser, central,
                                                                        tmp_path):
    from selenium.webdriver.common.by import By
    older, newer = batch_tars(tmp_path)
    with open(older, "rb") as source:
        central.releases.publish(central.releases.stage_copy(source, 1 << 30),
                                 ReleaseKind.CATALOGUE, (), True, "admin")
    proxy = CuttingProxy(int(central.url.rsplit(":", 1)[1]), whole_chunks=1,
                         cut_after=2 * 2**20)
    url = f"http://127.0.0.1:{proxy.port}"
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    try:
        sign_in(browser, url, "sanhe")
        # Staff see their own library only, and it is chosen already.
        assert [c.get_attribute("data-library") for c in
                browser.find_elements(By.CSS_SELECTOR, "div[data-library]")] == [SANHE]
        assert browser.find_elements(By.ID, "all-libraries") == []
        assert browser.find_element(By.CSS_SELECTOR, "input[name=library]").is_selected()
        browser.find_element(By.ID, "release-file").send_keys(str(newer))
        browser.find_element(By.ID, "send").click()
        assert proxy.cut_done.wait(60), "the page never sent a chunk through the proxy"
        arrive(browser, lambda d: "连接中断" in d.find_element(By.ID, "progress-text").text)
        assert 30 <= int(browser.find_element(By.ID, "progress").get_attribute("value")) < 100
        shot(browser, "central-batches-upload-retrying-zh")
        proxy.release()
        arrive(browser, lambda d: "published=" in d.current_url, timeout=120)
    finally:
        proxy.close()
    batch = central.releases.current(ReleaseKind.CATALOGUE, SANHE)
    assert (batch.version, batch.libraries, batch.published_by, batch.titles) == (
        "2026-12", (SANHE,), "sanhe", 3)
    assert batch.sha256 == hashlib.sha256(newer.read_bytes()).hexdigest()
    assert "批次 2026-12 已发布" in browser.find_element(By.CLASS_NAME, "notice").text
    rows = browser.find_elements(By.CSS_SELECTOR, "table.batches tbody tr")
    assert [r.get_attribute("data-release") for r in rows] == [str(batch.id), "1"]
    assert "2026-12" in rows[0].text and "当前版本" in rows[0].text and " MB" in rows[0].text
    assert "仍在提供" in rows[1].text and "全部图书馆" in rows[1].text
    # The batch for every library is the administrator's to withdraw, not the staff's.
    assert rows[1].find_elements(By.CSS_SELECTOR, "form.withdraw") == []
    shot(browser, "central-batches-published-zh")
    browser.find_element(By.LINK_TEXT, "English").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "E-book batches")
    shot(browser, "central-batches-en")
    browser.find_element(By.CSS_SELECTOR, f"tr[data-release='{batch.id}'] form.withdraw "
                                          "button").click()
    alert = browser.switch_to.alert
    assert "Withdraw batch 2026-12?" in alert.text
    alert.accept()
    arrive(browser, lambda d: "withdrawn=" in d.current_url)
    assert central.releases.get(batch.id).withdrawn_at is not None
    assert "Current" in browser.find_element(By.CSS_SELECTOR, "tr[data-release='1']").text
    # The administrator sees both libraries, and may publish for all of them.
    sign_in(browser, central.url, "admin")
    assert [c.get_attribute("data-library") for c in
            browser.find_elements(By.CSS_SELECTOR, "div[data-library]")] == [SANHE, LILING]
    assert browser.find_element(By.ID, "all-libraries").is_displayed()
    shot(browser, "central-batches-admin-zh")
