"""The System updates page in a real browser (headless Chromium from Debian, driven by
selenium): an administrator uploads a real bundle through the page while a proxy between the
browser and the server cuts the upload's connection and then refuses it for a while; the page
says it retries, goes on from what the server has, and publishes. Screenshots at 1280x800 in
artifacts/i14/ for a person to look at."""

import hashlib
import os
import socket
import threading

import pytest
import requests

from central.releases import Releases
from central.storage import Storage
from tests import test_central_browser as central_browser
from tests.central_bundles import make_bundle, make_update_key, needs_rauc
from tests.central_server import PASSWORD, add_kiosk, add_user, database_url, serve
from tests.conftest import ARTIFACTS

pytestmark = needs_rauc
SHOTS = ARTIFACTS / "i14"
browser = central_browser.browser
arrive = central_browser.arrive


class CuttingProxy:
    """Forwards TCP to the server. It lets `whole_chunks` upload chunks through, cuts the next
    one's connection after `cut_after` bytes of it, then closes every connection carrying a
    chunk until `release()`: the network gone for a while, as in a village reading room."""

    def __init__(self, upstream_port: int, whole_chunks: int, cut_after: int) -> None:
        self.upstream_port, self.cut_after = upstream_port, cut_after
        self.chunks_left = whole_chunks
        self.armed, self.holding = True, False
        self.cut_done = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def release(self) -> None:
        self.holding = False

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            for source, sink, watch in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(source, sink, watch, client, upstream),
                                 daemon=True).start()

    def _pump(self, source, sink, watch, client, upstream) -> None:
        counted = None  # bytes of an upload chunk forwarded on this connection
        try:
            while data := source.recv(65536):
                if watch and b"PUT /releases/uploads/" in data:
                    if self.holding:
                        break
                    if self.armed and self.chunks_left == 0:
                        counted = 0
                    self.chunks_left -= 1
                if counted is not None:
                    room = self.cut_after - counted
                    if room <= len(data):
                        sink.sendall(data[:room])
                        self.armed, self.holding = False, True
                        self.cut_done.set()
                        break
                    counted += len(data)
                sink.sendall(data)
        except OSError:
            pass
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def central(tmp_path):
    storage = Storage.open(database_url("sqlite", tmp_path))
    try:
        with serve(storage, tmp_path / "data") as running:
            running.tokens = {
                "liling-lobby-1": add_kiosk(storage, "liling-lobby-1", "醴陵市图书馆"),
                "liling-children": add_kiosk(storage, "liling-children", "醴陵市图书馆",
                                             "少儿阅览室"),
                "village-sanhe": add_kiosk(storage, "village-sanhe", "三合村图书室", "")}
            add_user(storage, "admin", "admin", "醴陵市图书馆", PASSWORD)
            running.releases = Releases(storage.db, running.config.releases_path)
            yield running
    finally:
        storage.close()


def shot(driver, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def test_an_upload_through_a_dropped_connection_is_published(browser, central, tmp_path):
    from selenium.webdriver.common.by import By
    key = make_update_key(tmp_path / "update-key")
    (tmp_path / "old").mkdir()
    with open(make_bundle(key, tmp_path / "old", "0.1.9"), "rb") as older:
        central.releases.publish(central.releases.stage_copy(older, 1 << 30), "system", (),
                                 True, "wang")
    # Over two of the page's 4 MiB chunks; the connection drops half-way through the second.
    bundle = make_bundle(key, tmp_path, "0.2.0+20261206", payload=os.urandom(9 * 2**20))
    proxy = CuttingProxy(int(central.url.rsplit(":", 1)[1]), whole_chunks=1,
                         cut_after=2 * 2**20)
    url = f"http://127.0.0.1:{proxy.port}"
    try:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        browser.get(url + "/releases")
        browser.find_element(By.ID, "name").send_keys("admin")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "sign-in").click()
        arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "系统更新")
        browser.find_element(By.ID, "release-file").send_keys(str(bundle))
        browser.find_element(By.CSS_SELECTOR, "input[name=library][value='醴陵市图书馆']").click()
        browser.find_element(By.ID, "send").click()
        assert proxy.cut_done.wait(60), "the page never sent a chunk through the proxy"
        # While the connection is refused the page says so, with what it has sent.
        arrive(browser, lambda d: "连接中断" in d.find_element(By.ID, "progress-text").text)
        # It shows at least the first chunk, which the server confirmed.
        assert 40 <= int(browser.find_element(By.ID, "progress").get_attribute("value")) < 100
        shot(browser, "releases-upload-retrying-zh")
        proxy.release()
        arrive(browser, lambda d: "published=" in d.current_url, timeout=120)
    finally:
        proxy.close()
    release = max(central.releases.all(), key=lambda r: r.id)
    assert release.version == "0.2.0+20261206" and release.libraries == ("醴陵市图书馆",)
    assert release.sha256 == hashlib.sha256(bundle.read_bytes()).hexdigest()
    rows = browser.find_elements(By.CSS_SELECTOR, "#releases tbody tr")
    assert [r.get_attribute("data-release") for r in rows] == [str(release.id), "1"]
    assert "当前版本\n醴陵市图书馆" in rows[0].text and release.sha256[:12] in rows[0].text
    assert "当前版本\n三合村图书室" in rows[1].text and "KB" in rows[1].text
    assert "已发布" in browser.find_element(By.CLASS_NAME, "notice").text
    shot(browser, "releases-published-zh")
    browser.find_element(By.LINK_TEXT, "English").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "System updates")
    shot(browser, "releases-en")
    # Withdrawing asks first, then the release before it is current again.
    browser.find_element(By.CSS_SELECTOR, f"tr[data-release='{release.id}'] form.withdraw "
                                          "button").click()
    alert = browser.switch_to.alert
    assert f"Withdraw release {release.id} (0.2.0+20261206)?" in alert.text
    alert.accept()
    arrive(browser, lambda d: "withdrawn=" in d.current_url)
    assert central.releases.get(release.id).withdrawn_at is not None
    assert "Current" in browser.find_element(By.CSS_SELECTOR, "tr[data-release='1']").text


def test_the_fleet_shows_each_kiosks_system_update(browser, central):
    from selenium.webdriver.common.by import By
    states = {"liling-lobby-1": {"state": "downloading", "done_bytes": 180 * 2**20,
                                 "total_bytes": 412 * 2**20},
              "liling-children": {"state": "waiting", "why": "读者正在使用"},
              "village-sanhe": {"state": "failed", "why": "not enough space on the data "
                                "partition: 380 MB free, 612 MB needed"}}
    for kiosk, state in states.items():
        body = {"kiosk_id": kiosk, "time_utc": "2026-12-06T01:00:00Z", "version": "0.1.9",
                "boot_id": "b", "ils": "ok", "unsent_rows": 0, "system_version": "0.1.9",
                "slot": "A", "delivery": {"system": {"version": "0.2.0",
                                                     "at": "2026-12-06T01:00:00Z", **state}}}
        requests.post(f"{central.url}/api/v1/heartbeat", json=body, timeout=10, headers={
            "Authorization": f"Bearer {central.tokens[kiosk]}"}).raise_for_status()
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    browser.get(central.url + "/fleet")
    browser.find_element(By.ID, "name").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    arrive(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "设备总览")
    text = browser.find_element(By.ID, "fleet").text
    assert "正在下载系统更新 0.2.0：43%" in text and "系统更新 0.2.0 等待中：读者正在使用" in text
    assert "系统更新 0.2.0 失败：not enough space" in text
    shot(browser, "fleet-system-updates-zh")
