"""The app as its own process: the headless walkthrough, and stopping when systemd says so."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ARTIFACTS, ROOT

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                                 reason="needs Xvfb: run ./setup.sh test")]


def test_the_walkthrough_saves_every_screen_and_journals_the_visit(tmp_path):
    out = ARTIFACTS / "walkthrough"
    for old in out.glob("*.png"):
        old.unlink()
    env = {**os.environ, "HOME": str(tmp_path)}  # the demo keeps its journal under ~
    result = subprocess.run([sys.executable, "-m", "kiosk", "run", "--demo", "--walkthrough", out],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    pictures = sorted(p.name for p in out.glob("*.png"))
    assert len(pictures) == 14 and pictures[0] == "01-attract.png"
    assert all((out / p).stat().st_size > 5000 for p in pictures)  # not blank frames
    assert "saved 14 screenshots" in result.stdout
    journal = tmp_path / ".local/share/kiosk-demo/journal.sqlite3"
    verify = subprocess.run([sys.executable, "-m", "kiosk", "journal", "verify", "--file", journal],
                           cwd=ROOT, capture_output=True, text=True)
    assert verify.returncode == 0 and "sound" in verify.stdout
    assert "23520001234566" not in result.stderr  # the scanned demo card, masked in the log


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_app_stops_cleanly_when_told_to(tmp_path, signum):
    """systemd stops the kiosk with SIGTERM; the window refuses to close, the process must not."""
    marker = tmp_path / "first-frame"
    env = {**os.environ, "HOME": str(tmp_path), "KIOSK_FIRST_FRAME_FILE": str(marker)}
    app = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--demo"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (marker.exists() and marker.read_text()) and app.poll() is None:
        assert time.monotonic() < deadline, "no first frame within 60 s"
        time.sleep(0.05)
    app.send_signal(signum)
    try:
        _, log = app.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        app.kill()
        pytest.fail(f"the app ignored {signum.name}")
    assert app.returncode == 0, log[-2000:]
    assert f"stopping on {signum.name}" in log
