"""The USB update on the real `kiosk run` process, with real X pointer input (XTEST through
xdotool) on an X server of the test's own, against the stand-in media helper at a real socket:
long press, staff PIN, "Update from a USB stick", Install, Restart now, each a press where a
person would press at 800x480. An X-level screenshot of the result goes to artifacts/i14/."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kiosk.core.pin import hash_pin
from tests import own_xvfb
from tests.conftest import ARTIFACTS, ROOT
from tests.fake_media_helper import NEW, FakeMediaHelper
from tests.waiting import wait_until
from tests.x_pointer import Pointer

pytestmark = [pytest.mark.ui, pytest.mark.slow]
TITLE = "Library kiosk"
PIN_KEYS = {"2": (595, 132), "5": (595, 228), "8": (595, 325), "0": (595, 420), "ok": (723, 420)}
USB_BUTTON = (628, 374)
INSTALL = (703, 246)  # the first bundle's Install, under the count of faults
RESTART_NOW = (400, 440)
# A pixel and its colour once the screen that has it is drawn: what the test waits for.
ATTRACT = (50, 200), (15, 76, 92)  # the attract screen's background
PIN_PAD = (555, 105), (23, 115, 140)  # the tint of the PIN pad's "2"
USB_SHOWN = (490, 360), (15, 76, 92)  # the USB button's tint, beside its label
INSTALL_SHOWN = (640, 238), (38, 128, 64)
RESTART_SHOWN = RESTART_NOW, (191, 77, 38)


@pytest.fixture
def xserver():
    yield from own_xvfb.started(1280, 800)


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
        wait_until(lambda: frame.exists() and frame.read_text(), 60, "first frame", process=app)
        pointer = Pointer(TITLE, xserver.display, app)
        pointer.wait(pointer.shows(*ATTRACT), "the attract screen drawn")
        pointer.press((400, 240), "the attract screen")  # touch to start
        pointer.hold((20, 20), "the staff corner", until=pointer.shows(*PIN_PAD))
        for key in ("2", "5", "8", "0"):
            pointer.press(PIN_KEYS[key], f"PIN key {key}")  # each adds a dot
        pointer.press(PIN_KEYS["ok"], "OK", until=pointer.shows(*USB_SHOWN))
        pointer.press(USB_BUTTON, "Update from a USB stick",
                      until=lambda: ("scan", None) in helper.history)
        pointer.press(INSTALL, "Install", when=pointer.shows(*INSTALL_SHOWN),
                      until=lambda: ("install", NEW.path) in helper.history)
        helper.go.touch()
        pointer.wait(pointer.shows(*RESTART_SHOWN), "the Restart now button")
        (ARTIFACTS / "i14").mkdir(parents=True, exist_ok=True)
        xserver.grab(TITLE).save(ARTIFACTS / "i14" / "admin-usb-x-installed-800x480.png")
        pointer.press(RESTART_NOW, "Restart now",
                      until=lambda: ("reboot", None) in helper.history)
    finally:
        app.terminate()
        app.wait(20)
        helper.close()
    assert app.returncode == 0, log.read_text()[-3000:]
