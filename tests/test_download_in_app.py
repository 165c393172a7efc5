"""A download link opened in WeChat's or QQ's own browser, which cannot save a file: the kiosk's
download server (real, on 127.0.0.1) answers with a page that sends the patron to a real
browser, counts it as its own outcome and never as a download; a real browser still gets the
file. Also the page in headless Chromium at a phone's size, saved to artifacts/."""

import time

import pytest
import requests

from kiosk.ebooks.download_server import IN_APP_BROWSER
from kiosk.ebooks.in_app_page import in_app_browser, in_app_page
from tests.conftest import ARTIFACTS
from tests.test_central_browser import chromium, chromium_options
from tests.test_downloads import BOOK, link, served, wait_for  # noqa: F401 (fixture)

WECHAT_ANDROID = ("Mozilla/5.0 (Linux; Android 13; V2238A Build/TP1A.220624.014; wv) "
                  "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 "
                  "Mobile Safari/537.36 XWEB/1160117 MMWEBSDK/20240301 MMWEBID/1234 "
                  "MicroMessenger/8.0.48.2580(0x28003035) WeChat/arm64 Weixin NetType/WIFI "
                  "Language/zh_CN ABI/arm64")
WECHAT_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) "
                 "NetType/WIFI Language/zh_CN")
QQ_ANDROID = ("Mozilla/5.0 (Linux; Android 12; PEGM00 Build/SKQ1.210216.001; wv) "
              "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 "
              "MQQBrowser/6.2 TBS/047205 Mobile Safari/537.36 V1_AND_SQ_8.9.83_4680_YYB_D "
              "QQ/8.9.83.12605 NetType/WIFI WebP/0.4.1 AppId/537176863 Pixel/1080")
QQ_BROWSER = ("Mozilla/5.0 (Linux; U; Android 12; zh-cn; PEGM00 Build/SKQ1.210216.001) "
              "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.86 "
              "MQQBrowser/14.7 Mobile Safari/537.36 COVC/046701")
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")


def get(url, agent, **kwargs):
    return requests.get(url, headers={"User-Agent": agent, **kwargs.pop("headers", {})},
                        timeout=5, **kwargs)


@pytest.mark.parametrize("agent", [WECHAT_ANDROID, WECHAT_IPHONE, QQ_ANDROID])
def test_an_in_app_browser_gets_the_page_not_the_file_nor_a_count(served, agent):  # noqa: F811
    url = link(served)
    answer = get(url, agent)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "User-Agent" in answer.headers["Vary"]
    assert "Content-Disposition" not in answer.headers
    page = answer.content.decode("utf-8")
    assert BOOK[:64] not in answer.content and len(answer.content) < 10_000
    assert "在浏览器中打开" in page and "《红楼梦》" in page
    assert page.index("在浏览器中打开") < page.index("Open in Browser")  # Chinese first
    assert "<script" not in page and "http" not in page.replace(
        "http-equiv", "")  # nothing fetched from anywhere, not even from the kiosk
    wait_for(lambda: served.counted_list == [("b1", IN_APP_BROWSER)])
    assert get(url, agent).status_code == 200  # the same link again: no second row
    assert get(url, agent, headers={"Range": "bytes=0-99"}).content[:64] != BOOK[:64]
    real = get(url, SAFARI)  # the same link in a real browser downloads as before
    assert real.status_code == 200 and real.content == BOOK
    wait_for(lambda: served.counted_list == [("b1", IN_APP_BROWSER), ("b1", "ok")])


def test_qq_browser_is_a_real_browser_and_downloads(served):  # noqa: F811
    answer = get(link(served), QQ_BROWSER)
    assert answer.content == BOOK
    wait_for(lambda: served.counted_list == [("b1", "ok")])


def test_a_head_request_from_wechat_counts_nothing(served):  # noqa: F811
    answer = requests.head(link(served), headers={"User-Agent": WECHAT_IPHONE}, timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert int(answer.headers["Content-Length"]) < 10_000 and answer.content == b""
    assert served.counted_list == []


@pytest.mark.parametrize("change, status", [("expired", 410), ("tampered", 403),
                                            ("unknown", 404)])
def test_a_bad_link_in_wechat_still_gets_the_refusal_page(served, change, status):  # noqa: F811
    if change == "expired":
        url = link(served, now=time.time() - 3600)
    elif change == "tampered":
        url = link(served)[:-1] + ("0" if link(served)[-1] != "0" else "1")
    else:
        url = link(served, "nosuch")
    answer = get(url, WECHAT_ANDROID)
    assert answer.status_code == status
    page = answer.content.decode("utf-8")
    assert "在浏览器中打开" not in page and "红楼梦" not in page
    assert (IN_APP_BROWSER not in {o for _i, o in served.counted_list})


def test_a_title_whose_file_is_gone_is_not_promised_to_wechat(served):  # noqa: F811
    (served.root / "versions/v1/books/b2.pdf").unlink()
    answer = get(link(served, "b2"), WECHAT_ANDROID)
    assert answer.status_code == 404 and "在浏览器中打开" not in answer.content.decode()
    assert served.counted_list == []


def test_which_browsers_are_in_app():
    assert in_app_browser(WECHAT_ANDROID) == in_app_browser(WECHAT_IPHONE) == "wechat"
    assert in_app_browser(QQ_ANDROID) == "qq"
    for agent in (SAFARI, QQ_BROWSER, "", None, "curl/8.5.0", "QQBrowser/1 MQQ/2"):
        assert in_app_browser(agent) is None


def test_the_page_escapes_the_title_and_says_how_long_the_link_works():
    now = 1_780_000_000.0
    page = in_app_page("<b>红楼梦</b> & \"续\"", int(now) + 1799, now, "wechat").decode()
    assert "<b>" not in page and "&lt;b&gt;红楼梦&lt;/b&gt; &amp;" in page
    until = time.strftime("%H:%M", time.localtime(int(now) + 1799))
    assert f"{until} 前有效" in page and "约 29 分钟" in page
    assert f"until {until}" in page and "about 29 minutes" in page
    assert "微信" in page and "WeChat" in page
    short = in_app_page("书", int(now) + 20, now, "qq").decode()
    assert "不到 1 分钟" in short and "QQ" in short


# --- in a real browser, at a phone's size -------------------------------------------------

@pytest.fixture
def phone(tmp_path):
    options = chromium_options(tmp_path)
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2},
        "userAgent": WECHAT_IPHONE})
    driver = chromium(options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_page_on_a_phone_screen(served, phone):  # noqa: F811
    phone.get(link(served))
    body = phone.find_element("tag name", "body").text
    assert "在浏览器中打开" in body and "红楼梦" in body and "Open in Browser" in body
    width = phone.execute_script("return window.innerWidth")
    assert width == 390
    assert phone.execute_script("return document.documentElement.scrollWidth") <= width
    # The Chinese steps are on the first screen, without scrolling.
    steps = phone.find_element("css selector", "ol")
    assert steps.rect["y"] + steps.rect["height"] <= 844
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone.save_screenshot(str(ARTIFACTS / "download_in_wechat_390x844.png"))
    wait_for(lambda: served.counted_list == [("b1", IN_APP_BROWSER)])


def test_the_kiosk_journals_it_with_the_title_and_uploads_it_as_its_own_outcome():
    from kiosk.core import events as ev
    from kiosk.upload.counts import outcome_name
    from tests.test_core_session import in_ebooks, rows
    effects = in_ebooks().handle(ev.EbookDownloaded("000123", IN_APP_BROWSER, 1), 500)
    assert rows(effects) == [("ebook_download", IN_APP_BROWSER, "000123")]
    assert outcome_name(IN_APP_BROWSER) == IN_APP_BROWSER  # the server's word, as it is
