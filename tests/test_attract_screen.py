"""The attract screen and the accessibility mode in the real app (tests/attract_app.py, one
process per size) on an X server of the test's own, large enough for every panel: a real X
press on a cover opens that title's page; the configured notice shows; the accessibility
button (pressed through X too) opens a session in larger type and higher contrast whose idle
timeout is doubled, and which ends with the session; every screen visited passes the layout
check. Screenshots go to artifacts/attract/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests import own_xvfb
from tests.conftest import ARTIFACTS, ROOT

pytestmark = [pytest.mark.ui, pytest.mark.slow]
SIZES = ["800x480", "1920x1080", "720x1280", "1080x1920"]
# The suite tours the smallest panel each way round; ./setup.sh system-test (-m system) the
# largest, keeping the suite under its ten minutes.
IN_SYSTEM_TEST = {"1920x1080", "1080x1920"}
TOURED = [pytest.param(size, marks=pytest.mark.system) if size in IN_SYSTEM_TEST else size
          for size in SIZES]
SHOTS = ARTIFACTS / "attract"
CHECKED = ["attract", "ebook_title", "home-accessible", "ebooks-accessible",
           "identify-accessible", "return-accessible", "home", "attract-after"]


@pytest.fixture(scope="module")
def reports(request, tmp_path_factory):
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    from tests.content_batches import Batches

    batches = Batches(tmp_path_factory.mktemp("batches"), count=30)
    servers = own_xvfb.started(2000, 2000)
    server = next(servers)  # the generator kept: its end closes the server
    try:
        found = {}
        chosen = {item.callspec.params["size"] for item in request.session.items
                  if item.module is request.module and hasattr(item, "callspec")}
        # One at a time: the X pointer is the server's one. Only the sizes this run checks.
        for size in (size for size in SIZES if size in chosen):
            done = subprocess.run(
                [sys.executable, str(ROOT / "tests/attract_app.py"), size, str(batches.first),
                 str(batches.public), str(SHOTS)], cwd=ROOT, capture_output=True, text=True,
                timeout=180, env={**os.environ, "DISPLAY": server.display})
            assert done.returncode == 0, done.stderr[-3000:]
            found[size] = json.loads(done.stdout.strip().splitlines()[-1])
        return found
    finally:
        servers.close()


@pytest.mark.parametrize("size", TOURED)
def test_a_press_on_a_cover_opens_that_title(reports, size):
    report = reports[size]
    assert report["cells"] >= 2 and report["pool"] == 24
    assert report["badges"] == ["新书 New"]  # one batch, nothing viewed yet
    chosen, opened = report["opened"]
    assert chosen == opened and report["ebook_title"]["screen"] == "ebook_title"
    assert report["badges_after"] == ["新书 New", "热门 Popular"]  # the title just viewed


@pytest.mark.parametrize("size", TOURED)
def test_the_covers_go_round_in_sets(reports, size):
    first, second = reports[size]["sets"]
    assert len(first) == len(second) == reports[size]["cells"]
    assert not set(first) & set(second)  # 24 titles: the next set is all new ones


@pytest.mark.parametrize("size", TOURED)
def test_the_notice_shows_and_a_missing_cover_is_drawn_with_its_title(reports, size):
    report = reports[size]
    assert report["notice"] == ["12月25日至1月1日闭馆，请使用还书箱还书",
                                "Closed 25 December to 1 January: please use the book drop"]
    texts = report["drawn"]["texts"]
    assert any("[b]" in text and "[/b]" in text for text in texts)
    assert report["drawn"]["opacity"] == [1, 1] and not report["drawn"]["texture"]


@pytest.mark.parametrize("size", TOURED)
def test_the_accessible_mode_grows_text_then_ends_with_the_session(reports, size):
    report = reports[size]
    before = report["body_before"]
    assert abs(report["home-accessible"]["body"] - before * 1.3) <= 1  # 22 px -> 29 at 800x480
    assert report["home-accessible"]["accessible"] is True
    assert report["home_faint"] == []  # every text on home at 7:1 or more
    assert report["body_off"] == before and report["home"]["accessible"] is False
    assert report["body_after"] == before and report["attract-after"]["accessible"] is False


@pytest.mark.parametrize("size", TOURED)
def test_the_accessible_mode_doubles_the_idle_timeout(reports, size):
    report = reports[size]
    assert report["countdown_at_61"] is None  # 60 s: a normal session would ask now
    assert report["countdown_at_121"] == 29  # asked at 120 s, counting down from 30


@pytest.mark.parametrize("size", TOURED)
def test_every_screen_visited_passes_the_layout_check(reports, size):
    report = reports[size]
    assert {name: report[name]["problems"] for name in CHECKED
            if report[name]["problems"]} == {}


@pytest.mark.parametrize("size", ["800x480", "720x1280"])
def test_without_a_catalogue_or_notices_there_is_no_empty_box(size):
    done = subprocess.run([sys.executable, str(ROOT / "tests/attract_app.py"), size, "-", "-",
                           str(SHOTS)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["pool"] == 0 and report["notice"] == ["", ""]
    assert report["shelf"][1] == 0  # no covers' column, no notice box
    assert report["problems"] == []
