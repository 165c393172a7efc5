"""The admin screen's sound button and dialog at every size the kiosk ships on, in Chinese and
English: no text clipped, no touch target under a finger's size or on another, no faint text,
the dialog inside the window (kiosk.ui.layout_check, in one process: tests/sound_sizes_app.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                                 reason="needs Xvfb: run ./setup.sh test")]
SIZES = ["800x480", "1024x600", "1280x800", "1920x1080", "720x1280", "1080x1920"]


@pytest.fixture(scope="module")
def layouts():
    done = subprocess.run([sys.executable, str(ROOT / "tests/sound_sizes_app.py"),
                           ",".join(SIZES)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("size", SIZES)
def test_the_sound_dialog_fits_every_screen(layouts, lang, size):
    assert layouts[f"{lang}:{size}"] == []
