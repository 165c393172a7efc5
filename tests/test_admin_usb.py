"""The admin screen's "Update from a USB stick" on the real app under X, driven by touches,
against a stand-in media helper at a real Unix socket (tests/fake_media_helper.py): look,
list, install with the progress bar, the result in both languages, restart; a failed install;
and a kiosk without the helper's socket (installed with setup.sh). Each runs in its own
process at 800x480, 1280x800, 1920x1080 and 720x1280 (portrait); screenshots go to
artifacts/i14/."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.fake_media_helper import NEW, FakeMediaHelper, Script

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                                 reason="needs Xvfb: run ./setup.sh test")]
SHOTS = ARTIFACTS / "i14"
SIZES = ["800x480", "1280x800", "1920x1080", "720x1280"]
# The suite the smallest panel each way round, where room runs out first; ./setup.sh
# system-test (-m system) the two larger, keeping the suite under its ten minutes.
IN_SYSTEM_TEST = {"1280x800", "1920x1080"}
CHECKED_SIZES = [pytest.param(size, marks=pytest.mark.system) if size in IN_SYSTEM_TEST else size
                 for size in SIZES]


def run_app(scenario, size, socket_path, go):
    return subprocess.run([sys.executable, str(ROOT / "tests/admin_usb_app.py"), scenario, size,
                           str(socket_path), str(go), str(SHOTS)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("size", CHECKED_SIZES)
def test_install_from_a_stick_with_progress_then_restart(tmp_path, size):
    helper = FakeMediaHelper(tmp_path / "media.sock", tmp_path / "go")
    try:
        done = run_app("install", size, helper.path, helper.go)
    finally:
        helper.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "restart asked" in done.stdout
    ops = [entry[0] for entry in helper.history]
    assert ops[:4] == ["connect", "scan", "install", "reboot"], helper.history
    assert ("install", NEW.path) in helper.history
    for name in ("button", "list", "installing", "installed", "installed-en"):
        assert (SHOTS / f"admin-usb-{name}-{size}.png").stat().st_size > 5000


@pytest.mark.parametrize("size", CHECKED_SIZES)
def test_a_failed_install_says_nothing_changed_and_why(tmp_path, size):
    helper = FakeMediaHelper(tmp_path / "media.sock", tmp_path / "go",
                             Script(install_fails="Compatible mismatch"))
    try:
        done = run_app("failed", size, helper.path, helper.go)
    finally:
        helper.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "reboot" not in [entry[0] for entry in helper.history]


def test_without_the_helper_s_socket_the_screen_says_so(tmp_path):
    done = run_app("unavailable", "800x480", tmp_path / "no-such.sock", tmp_path / "go")
    assert done.returncode == 0, done.stderr[-3000:]


def test_back_hangs_up_so_the_helper_unmounts(tmp_path):
    """Leaving the panel closes the connection: the helper's cue to unmount."""
    helper = FakeMediaHelper(tmp_path / "media.sock", tmp_path / "go")
    try:
        done = run_app("back", "800x480", helper.path, helper.go)
    finally:
        helper.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert [entry[0] for entry in helper.history] == ["connect", "scan", "hangup"]
