"""No key opens anything but the kiosk's own screens: the real `kiosk run` process (production
config, not the demo) on an X server of the test's own, every function key and the usual escape
combinations typed as real X input (XTEST, through xdotool), then the process, its one window and
what the window shows are checked after each group of keys."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from PIL import ImageChops

from tests import own_xvfb
from tests.conftest import ROOT
from tests.x_pointer import Pointer

pytestmark = [pytest.mark.ui, pytest.mark.slow]
TITLE = "Library kiosk"
KEY_GROUPS = (
    [f"F{n}" for n in range(1, 13)],
    ["alt+F4", "alt+Tab", "super", "ctrl+Escape", "alt+F2", "shift+F11", "ctrl+e"],
    [f"ctrl+alt+F{n}" for n in range(1, 8)] + ["ctrl+alt+BackSpace", "ctrl+alt+Delete"],
    ["ctrl+q", "ctrl+w", "ctrl+c", "Menu"],
    ["Escape"],
)
ATTRACT = (50, 200), (15, 76, 92)  # the attract screen's background, once drawn
CHANGED_SHARE = 0.03  # the attract screen's clock may turn a minute; a panel covers it all


@pytest.fixture
def xserver():
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed")
    yield from own_xvfb.started(1280, 800)


def changed_share(before, after) -> float:
    """The share of pixels that changed by more than a little."""
    diff = ImageChops.difference(before.convert("RGB"), after.convert("RGB")).convert("L")
    changed = sum(diff.point(lambda v: 255 if v > 24 else 0).histogram()[255:])
    return changed / (diff.width * diff.height)


def top_windows(env) -> list[tuple[str, str]]:
    """(id, name) of every window on the root (SDL makes one; nothing else runs here)."""
    tree = subprocess.run(["xwininfo", "-root", "-children"], env=env, check=True,
                          capture_output=True, text=True).stdout
    return re.findall(r'^\s+(0x[0-9a-f]+) "([^"]*)"', tree, re.MULTILINE)


def test_no_key_or_combination_leaves_the_kiosk_screen(tmp_path, xserver):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n'
                      '[display]\nwidth = 800\nheight = 480\nfullscreen = "no"\n'
                      '[devices]\nscanner = "sim:scanner"\n', encoding="utf-8")
    frame = tmp_path / "first-frame"
    env = {**os.environ, "DISPLAY": xserver.display, "HOME": str(tmp_path),
           "KIOSK_FIRST_FRAME_FILE": str(frame)}
    log = tmp_path / "app.log"
    with log.open("w") as output:
        app = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(config), "run"],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=output)

    def xdotool(*args: str) -> str:
        return subprocess.run(["xdotool", *args], env=env, check=True, capture_output=True,
                              text=True).stdout

    try:
        deadline = time.monotonic() + 60
        while not (frame.exists() and frame.read_text()):
            assert app.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "no first frame within 60 s"
            time.sleep(0.05)
        x, y, width, height = xserver.window(TITLE)
        windows = top_windows(env)
        assert [name for _, name in windows] == [TITLE], windows
        xdotool("mousemove", str(x + width // 2), str(y + height // 2))
        xdotool("windowfocus", "--sync", windows[0][0])
        window = Pointer(TITLE, xserver.display, app)
        window.wait(window.shows(*ATTRACT), "the attract screen drawn")  # not a black window
        before = xserver.grab(TITLE)
        for keys in KEY_GROUPS:
            xdotool("key", "--clearmodifiers", "--delay", "25", *keys)
            time.sleep(0.4)  # a few frames: what a key opened is drawn by then
            assert app.poll() is None, f"the app stopped after {keys}: " + log.read_text()[-2000:]
            assert top_windows(env) == windows, keys  # no other window, the same one
            _, _, now_width, now_height = xserver.window(TITLE, timeout=2)  # still mapped
            assert (now_width, now_height) == (width, height), keys
            share = changed_share(before, xserver.grab(TITLE))
            assert share < CHANGED_SHARE, f"{share:.0%} of the screen changed after {keys}"
    finally:
        app.terminate()
        app.wait(20)
    text = log.read_text()
    assert app.returncode == 0, text[-3000:]
    assert "Traceback" not in text
