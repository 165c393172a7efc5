"""A USB keyboard and the hide key on the e-book search, as real X input (XTEST through
xdotool) into the real app on an X server of the test's own (tests/ebook_search_keys_app.py,
one process per window size): typed text and Backspace, Delete and Enter reach the search and
nothing else (Escape, Ctrl+W, Alt+F4, F1 leave the screen as it is, the demo's keyboard scanner
hears none of it); the rows show their covers; Enter or the hide key gives the results the
keyboard's room, and "show keyboard" or a tap on the search field brings it back; a title
whose cover file is missing gets a drawn one.

The barcode scanner is a keyboard too, but never types here: its evdev driver grabs its input
nodes (tests/test_evdev_scanner.py), so the X server never sees its keys."""

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
SHOTS = ARTIFACTS / "ebook-search"


@pytest.fixture(scope="module")
def xserver():
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    yield from own_xvfb.started(2000, 2000)


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    from tests.content_batches import Batches
    return Batches(tmp_path_factory.mktemp("batches"), count=30)


@pytest.mark.parametrize("size", ["800x480", "720x1280"])
def test_a_usb_keyboard_types_into_the_search_and_the_keyboard_hides(xserver, batches, size):
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests/ebook_search_keys_app.py"), size, str(batches.first),
         str(batches.public), str(SHOTS)], cwd=ROOT, capture_output=True, text=True,
        timeout=180, env={**os.environ, "DISPLAY": xserver.display})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["typed"] == "HLm"  # shift and all: SDL's text, not key codes
    assert report["placeholder"] == ["红", None]  # its cover file is gone: drawn instead
    assert report["rows_found"] > report["rows_drawn"] >= 1  # covers only for rows in sight
    assert report["rows_drawn_hidden"] > report["rows_drawn"] and report["scrolled_to_last"]
    assert report["row_height"] >= 64 * min(map(int, size.split("x"))) / 480  # a finger's
    assert report["problems_hidden"] == [] and report["problems_hidden_en"] == []
    assert report["pointer"] == "show, hide, field"
