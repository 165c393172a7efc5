"""The patron's main screens, and staff's with faults, at every size the kiosk ships on,
landscape and portrait: no text cut off by its widget, no touch target over another or
smaller than a finger, no text too faint to read (kiosk.ui.layout_check). One process per
size (tests/screen_sizes_app.py: Kivy reads its window size once), two at a time;
screenshots go to artifacts/sizes/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import ARTIFACTS, ROOT

# An app process of about 40 s per size, two at a time, all in the first test's setup.
pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.timeout(600),
              pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                 reason="needs Xvfb: run ./setup.sh test")]
SIZES = ["800x480", "1024x600", "1280x800", "1920x1080", "720x1280", "1080x1920"]
# The suite checks the smallest panel each way round, where room runs out first; the other
# four sizes are checked by ./setup.sh system-test (-m system), keeping the suite under its ten
# minutes.
IN_SYSTEM_TEST = {"1024x600", "1280x800", "1920x1080", "1080x1920"}
CHECKED_SIZES = [pytest.param(size, marks=pytest.mark.system) if size in IN_SYSTEM_TEST else size
                 for size in SIZES]
# Visited and checked, in this order.
CHECKED = ["attract", "attract-en", "home-en", "home", "identify", "identify-accessible",
           "return", "ebooks", "ebook_search-empty", "ebook_search", "ebook_search-en",
           "ebook_search-hidden-en", "ebook_search-hidden", "ebook_search-more",
           "ebook_search-more-en", "ebook_title", "ebook_title-en",
           "admin_pin", "account", "borrow", "borrow-accessible", "receipt",
           "receipt-accessible", "receipt-en", "account-patron", "account-patron-accessible",
           "blocked", "blocked-accessible", "blocked-en", "borrow-refused",
           "borrow-refused-accessible", "borrow-refused-en", "goodbye-en", "goodbye",
           "identify-wrong-number", "identify-wrong-number-accessible",
           "identify-wrong-number-en", "return-left-on-pad", "return-left-on-pad-accessible",
           "home-accessible", "return-accessible", "ebooks-accessible", "ebook_title-accessible",
           "goodbye-accessible",
           "admin", "admin-en"]
# A state of a screen, visited under a name of its own: the screen it is on.
STATES = {"borrow-refused": "borrow", "identify-wrong-number": "identify",
          "return-left-on-pad": "return", "ebook_search-hidden": "ebook_search",
          "ebook_search-empty": "ebook_search", "ebook_search-more": "ebook_search",
          "account-patron": "account"}
SHOTS = ARTIFACTS / "sizes"


def base(visit: str) -> str:
    """The visit's name without its language or mode: "home-accessible" is "home"."""
    return visit.removesuffix("-en").removesuffix("-accessible")


@pytest.fixture(scope="module")
def reports(request, tmp_path_factory):
    from tests.content_batches import Batches

    batches = Batches(tmp_path_factory.mktemp("batches"), count=30)

    def run(size: str) -> dict:
        done = subprocess.run([sys.executable, str(ROOT / "tests/screen_sizes_app.py"), size,
                               str(batches.first), str(batches.public), str(SHOTS)],
                              cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    chosen = {item.callspec.params["size"] for item in request.session.items
              if item.module is request.module and hasattr(item, "callspec")}
    sizes = [size for size in SIZES if size in chosen]  # only the sizes this run checks
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(sizes, pool.map(run, sizes)))


@pytest.mark.parametrize("size", CHECKED_SIZES)
def test_every_screen_fits_its_text_and_fingers(reports, size):
    report = reports[size]
    assert "这张读者证暂时不能借书" in report["blocked"]["texts"]
    assert "应缴金额：¥35.50" in report["blocked"]["texts"]
    assert "Amount owed: ¥35.50" in report["blocked-en"]["texts"]
    # One sentence and one next step per refused book, in the patron's language only.
    refused = report["borrow-refused"]["texts"]
    assert {"三体", "此书已被其他读者预约。请交给工作人员。", "红楼梦", "续借",
            "条码 33520009999998"} <= set(refused)
    assert not any("On hold" in text or "patron" in text for text in refused)
    assert "On hold for another reader. Please hand it to staff." in \
        report["borrow-refused-en"]["texts"]
    assert "Thank you — please take your library card" in report["goodbye-en"]["texts"]
    assert "谢谢，请取走您的读者证" in report["goodbye"]["texts"]
    assert "读者证号应为 14 位数字，请核对后重新输入。" in \
        report["identify-wrong-number"]["texts"]
    assert "A card number has 14 digits. Please check it and type it again." in \
        report["identify-wrong-number-en"]["texts"]
    assert any(text.startswith("感应区上有上一位读者留下的1件物品")
               for text in report["return-left-on-pad"]["texts"])
    assert {visit: report[visit]["screen"] for visit in CHECKED} == \
        {visit: STATES.get(base(visit), base(visit)) for visit in CHECKED}
    assert {visit: report[visit]["problems"] for visit in CHECKED
            if report[visit]["problems"]} == {}
    # The accessibility mode's high contrast: every text at 7:1 or more (WCAG AAA).
    assert {visit: report[visit]["faint"] for visit in CHECKED
            if report[visit]["faint"]} == {}
    assert {visit: report[visit]["over_header"] for visit in CHECKED
            if report[visit]["over_header"]} == {}
    assert all(report[visit]["accessible"] for visit in CHECKED if "accessible" in visit)
    assert (SHOTS / f"ebook_search-{size}.png").stat().st_size > 5000
    # Counting stopped at the cap: said as "more than", in each language (in the header, or
    # on a portrait screen on a line of its own).
    assert any("找到超过 3 本，显示前 2 本" in text
               for text in report["ebook_search-more"]["texts"])
    assert any("More than 3 found, showing the first 2" in text
               for text in report["ebook_search-more-en"]["texts"])
    # The results show covers, more of them with the keyboard hidden.
    assert 1 <= report["ebook_search"]["covers"] < report["ebook_search-hidden"]["covers"]
