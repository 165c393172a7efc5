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

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                                 reason="needs Xvfb: run ./setup.sh test")]
SIZES = ["800x480", "1024x600", "1280x800", "1920x1080", "720x1280", "1080x1920"]
# Visited and checked, in this order.
CHECKED = ["attract", "attract-en", "home-en", "home", "identify", "return", "ebooks",
           "ebook_search", "ebook_search-en", "ebook_title", "admin_pin", "account", "admin",
           "admin-en"]
SHOTS = ARTIFACTS / "sizes"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from tests.content_batches import Batches

    batches = Batches(tmp_path_factory.mktemp("batches"), count=30)

    def run(size: str) -> dict:
        done = subprocess.run([sys.executable, str(ROOT / "tests/screen_sizes_app.py"), size,
                               str(batches.first), str(batches.public), str(SHOTS)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(SIZES, pool.map(run, SIZES)))


@pytest.mark.parametrize("size", SIZES)
def test_every_screen_fits_its_text_and_fingers(reports, size):
    report = reports[size]
    assert {visit: report[visit]["screen"] for visit in CHECKED} == \
        {visit: visit.removesuffix("-en") for visit in CHECKED}
    assert {visit: report[visit]["problems"] for visit in CHECKED
            if report[visit]["problems"]} == {}
    assert (SHOTS / f"ebook_search-{size}.png").stat().st_size > 5000
