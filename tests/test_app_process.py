"""The app as its own process: the headless walkthrough, and stopping when systemd says so."""

import os
import signal
import subprocess
import sys
import time

import pytest

from kiosk.journal import Journal
from tests.conftest import ARTIFACTS, ROOT
from tests.x_pointer import Pointer

pytestmark = [pytest.mark.ui, pytest.mark.slow,
              pytest.mark.skipif(not os.environ.get("DISPLAY"),
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
    assert len(pictures) == 22 and pictures[0] == "01-attract.png"
    assert all((out / p).stat().st_size > 5000 for p in pictures)  # not blank frames
    assert "saved 22 screenshots" in result.stdout
    journal = tmp_path / ".local/share/kiosk-demo/journal.sqlite3"
    verify = subprocess.run([sys.executable, "-m", "kiosk", "journal", "verify", "--file", journal],
                           cwd=ROOT, capture_output=True, text=True)
    assert verify.returncode == 0 and "sound" in verify.stdout
    assert "23520001234566" not in result.stderr  # the scanned demo card, masked in the log
    demo = tmp_path / ".local/share/kiosk-demo"
    assert (demo / "catalogue/current/catalogue.sqlite3").exists()  # the sample catalogue
    with Journal.open(journal, demo / "patron.key") as opened:
        kinds = {row.kind for row in opened.rows()}
    assert {"ebook_view", "ebook_qr", "search", "checkout", "checkin", "receipt"} <= kinds


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


def frame_after(marker, after):
    return marker.exists() and marker.read_text() and float(marker.read_text()) > after


def wait_for_frame(marker, app, after=0.0):
    deadline = time.monotonic() + 60
    while not frame_after(marker, after):
        assert app.poll() is None, app.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "no new frame within 60 s"
        time.sleep(0.05)
    return float(marker.read_text())


ATTRACT = (50, 200), (15, 76, 92)  # the attract screen's background, once it is drawn
PIN_PAD = (430, 110), (23, 115, 140)  # the tint of the PIN pad's first key
RESTART = (498, 378), (191, 77, 38)  # the third of the admin screen's four buttons


def test_staff_restart_by_real_pointer_input(tmp_path):
    """Long press, PIN and restart with X-level input; the app comes back and journals it."""
    marker = tmp_path / "first-frame"
    env = {**os.environ, "HOME": str(tmp_path), "KIOSK_FIRST_FRAME_FILE": str(marker)}
    app = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--demo"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        first = wait_for_frame(marker, app)
        pointer = Pointer("Library kiosk", app=app)
        pointer.wait(pointer.shows(*ATTRACT), "the attract screen drawn")
        # Touch to start, and wait for the home screen: the attract screen changes by itself,
        # and a hold that came before the session started would journal no session row. A
        # touch that lands while the screen manager still fades the attract screen in is
        # dropped (Kivy ignores touches during a transition): touch again, as a patron would.
        attract = pointer.shows(*ATTRACT)
        for _ in range(3):
            # Left of the middle, on the time: the demo's covers take the right-hand side.
            pointer.press((150, 240), "the attract screen", until=lambda: True)
            try:
                pointer.wait(lambda: not attract(), "the home screen", timeout=10)
                break
            except pytest.fail.Exception:
                continue
        pointer.wait(lambda: not attract(), "the home screen")
        pointer.hold((20, 20), "the staff corner", until=pointer.shows(*PIN_PAD))
        for digit, at in zip("1234", [(467, 131), (595, 131), (723, 131), (467, 207)]):
            pointer.press(at, f"PIN key {digit}")  # each adds a dot
        pointer.press((723, 359), "OK", until=pointer.shows(*RESTART))
        pointer.press(RESTART[0], "restart", until=lambda: frame_after(marker, first))
        assert app.poll() is None  # the same process, started again by exec
        app.send_signal(signal.SIGTERM)
        _, log = app.communicate(timeout=15)
    finally:
        if app.poll() is None:
            app.kill()
    assert app.returncode == 0, log[-2000:]
    assert "restarting as asked on the admin screen" in log
    journal = tmp_path / ".local/share/kiosk-demo/journal.sqlite3"
    with Journal.open_existing(journal) as reader:
        rows = [(row.kind, row.outcome) for row in reader.rows()]
    assert rows == [("session", "admin"), ("admin", "ok"), ("admin", "restart")]
