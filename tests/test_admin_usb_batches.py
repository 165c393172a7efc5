"""E-book batches from a USB stick on the admin screen, end to end: the real app under X
(tests/admin_usb_batches_app.py, one process per window size) against the real media helper
as root with a real loop-mounted stick holding real signed batches, on a kiosk without RAUC
(installed with setup.sh). Each batch's row says what it is and how it stands against the
catalogue (newer, after another newer one, current, older, unreadable); one batch is refused,
one applied with the progress bar moving, each said in both languages; the status list and the
e-book screen then show it. Screenshots of the panel in both
languages go to artifacts/i17/usb-*.png."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from content.store import CatalogueStore
from tests.conftest import ARTIFACTS, ROOT
from tests.content_batches import Batches
from tests.media_stick import Helper, batch_stick_files_of_every_standing, usb_stick, why_not

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                                 reason="needs Xvfb: run ./setup.sh test")]
SHOTS = ARTIFACTS / "i17"


@pytest.fixture(scope="module")
def helper(tmp_path_factory):
    """The helper of a setup.sh kiosk (no RAUC) with the stick plugged in, for the module."""
    reason = why_not("ext4")
    if reason:
        pytest.skip(reason)
    where = tmp_path_factory.mktemp("stick")
    batches = Batches(where / "batches", count=24)
    files = where / "files"
    files.mkdir()
    with usb_stick(where, "ext4", batch_stick_files_of_every_standing(batches, files)) as device:
        running = Helper(where, usb=device.removeprefix("/dev/"), from_image=False)
        try:
            yield running, batches
        finally:
            running.stop()


# The largest panel in ./setup.sh system-test (-m system), keeping the suite under ten minutes.
@pytest.mark.parametrize("size", ["800x480", pytest.param("1920x1080", marks=pytest.mark.system)])
def test_staff_apply_a_batch_from_a_stick_and_the_kiosk_shows_it(tmp_path, helper, size):
    running, batches = helper
    data = tmp_path / "data"
    CatalogueStore(data / "catalogue").apply(batches.first, batches.public)
    shutil.copyfile(batches.public, data / "content-signing.pub")
    done = subprocess.run([sys.executable, str(ROOT / "tests/admin_usb_batches_app.py"), size,
                           str(running.socket_path), str(data), str(SHOTS)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "applied and shown" in done.stdout
    assert CatalogueStore(data / "catalogue").current_dir().name == "2026-12-1"
    for name in ("list", "list-end", "refused", "applying", "applied", "relisted"):
        for lang in ("zh", "en"):
            assert (SHOTS / f"usb-{name}-{lang}-{size}.png").stat().st_size > 5000
