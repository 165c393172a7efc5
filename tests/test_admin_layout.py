"""The staff admin screen's status list reads at every screen size the kiosk ships on: each row
as tall as its text (long faults with advice, devices on long paths), no row over another, the
bottom buttons' labels inside their buttons, and the list scrolls to its last row.

One process lays the screen out at every size in turn (tests/admin_layout_app.py) and reports
what does not fit; each size is a test here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                                 reason="needs Xvfb: run ./setup.sh test")]
SIZES = ["800x480", "1024x600", "1280x800", "1920x1080", "720x1280"]
# Chinese everywhere; English, whose words are longer, on the smallest screens.
CASES = [f"zh_CN:{size}" for size in SIZES] + ["en:800x480", "en:720x1280"]


@pytest.fixture(scope="module")
def layouts():
    done = subprocess.run([sys.executable, str(ROOT / "tests/admin_layout_app.py"),
                           ",".join(CASES)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", CASES)
def test_every_row_and_button_fits_its_text(layouts, case):
    result = layouts[case]
    assert result["rows"] >= 15, result  # devices, checks and the staff tasks all listed
    assert list(dict.fromkeys(result["problems"])) == []


def test_the_list_scrolls_on_the_small_screen(layouts):
    """The report is taller than a 7-inch screen: the helper scrolled it to its last row."""
    assert layouts["zh_CN:800x480"]["scrolls"]


def test_a_check_that_works_but_warns_is_marked_so(layouts):
    """The e-book catalogue shows, but the last pull failed: not a fault, not plain "working"."""
    assert layouts["zh_CN:800x480"]["verdicts"]["电子书"] == "注意"
    assert layouts["en:800x480"]["verdicts"]["E-books"] == "Attention"
    assert layouts["en:800x480"]["verdicts"]["Disk space"] == "Working"
