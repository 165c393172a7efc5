"""The USB update on the real `kiosk run` process, with real X pointer input (XTEST through
xdotool) on an X server of the test's own, against the stand-in media helper at a real socket:
long press, staff PIN, "Update from a USB stick", Install, Restart now, each a press where a
person would press at 800x480. An X-level screenshot of the result goes to artifacts/i14/."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from kiosk.core.pin import hash_pin
from tests.conftest import ARTIFACTS, ROOT
from tests.fake_media_helper import NEW, FakeMediaHelper
from tests import own_xvfb

pytestmark = pytest.mark.ui
TITLE = "Library kiosk"
PIN_KEYS = {"2": (595, 132), "5": (595, 228), "8": (595, 325), "0": (595, 420), "ok": (723, 420)}
USB_BUTTON = (628, 374)
INSTALL = (703, 193)   # the first bundle's Install
RESTART_NOW = (400, 440)
RESTART_COLOUR = (191, 77, 38)  # the button's tint, once it shows


@pytest.fixture
def xserver():
    yield from own_xvfb.started(1280, 800)


class Pointer:
    def __init__(self, xserver):
        self.display = xserver.display
        self.x, self.y, _, _ = xserver.window(TITLE)

    def press(self, at, seconds=0.1):
        env = {**os.environ, "DISPLAY": self.display}
        x, y = at
        subprocess.run(["xdotool", "mousemove", str(self.x + x), str(self.y + y)], env=env,
                       check=True)
        time.sleep(0.1)  # pacing of a hand, not an assertion
        subprocess.run(["xdotool", "mousedown", "1"], env=env, check=True)
        time.sleep(seconds)
        subprocess.run(["xdotool", "mouseup", "1"], env=env, check=True)
        time.sleep(0.3)


def until(condition, what, app, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert app.poll() is None, f"the app stopped while waiting for {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.1)


def test_a_technician_installs_from_a_stick_with_real_pointer_input(tmp_path, xserver):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n'
                      '[display]\nwidth = 800\nheight = 480\nfullscreen = "no"\n'
                      f'[admin]\npin_hash = "{hash_pin("2580", iterations=100_000)}"\n'
                      'long_press_s = 1.0\n[devices]\nscanner = "sim:scanner"\n')
    helper = FakeMediaHelper(tmp_path / "media.sock", tmp_path / "go")
    frame = tmp_path / "first-frame"
    env = {**os.environ, "DISPLAY": xserver.display, "HOME": str(tmp_path),
           "KIOSK_MEDIA_SOCKET": str(helper.path), "KIOSK_FIRST_FRAME_FILE": str(frame)}
    log = tmp_path / "app.log"
    with log.open("w") as output:
        app = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config), "run"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=output)
    try:
        until(lambda: frame.exists() and frame.read_text(), "first frame", app)
        pointer = Pointer(xserver)
        pointer.press((400, 240))                # touch to start
        pointer.press((20, 20), seconds=1.6)     # the staff corner, held past long_press_s
        for key in ("2", "5", "8", "0", "ok"):
            pointer.press(PIN_KEYS[key])
        pointer.press(USB_BUTTON)
        until(lambda: ("scan", None) in helper.history, "scan request", app)
        pointer.press(INSTALL)
        until(lambda: ("install", NEW.path) in helper.history, "install request", app)
        helper.go.touch()

        def restart_shows():
            pixel = xserver.grab(TITLE).convert("RGB").getpixel(RESTART_NOW)
            return all(abs(a - b) <= 3 for a, b in zip(pixel, RESTART_COLOUR))
        until(restart_shows, "Restart now button", app)
        (ARTIFACTS / "i14").mkdir(parents=True, exist_ok=True)
        xserver.grab(TITLE).save(ARTIFACTS / "i14" / "admin-usb-x-installed-800x480.png")
        pointer.press(RESTART_NOW)
        until(lambda: ("reboot", None) in helper.history, "reboot request", app)
    finally:
        app.terminate()
        app.wait(20)
        helper.close()
    assert app.returncode == 0, log.read_text()[-3000:]
