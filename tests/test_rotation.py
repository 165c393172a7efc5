"""`[display] rotation` with real X pointer input: a 1280x720 panel turned 90, 180 or 270
degrees clockwise (and not at all). The app (tests/rotated_app.py, its own process on an X
server of the test's own) says where it laid its home screen's buttons out; the test works out
where on the panel a person sees one (turning the point as the config says the picture turns),
checks that the X server shows the button's colour there, presses there and expects that
button's screen, the touch arriving at the button's centre in the screens' coordinates. Three
ways to press: xdotool (XTEST through X and SDL, a PC's touchscreen or mouse), panel pixels
handed to Kivy's mouse provider (SDL's part of that), and a touch at the raw touch-controller
position read by Kivy's own mtdev provider from a scripted libmtdev device (a Pi under KMS,
where SDL makes no mouse events of touches). The screens are laid out in the turned
(portrait) size and pass the layout check there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from tests import own_xvfb
from tests.conftest import ARTIFACTS, ROOT
from tests.waiting import wait_until
from tests.x_pointer import Pointer

pytestmark = [pytest.mark.ui, pytest.mark.slow]
TITLE = "Library kiosk"
PANEL = 1280, 720  # the panel's own pixels, as it is made (landscape)
PANEL_MAX = 4095  # tests/rotated_app.py's scripted touch controller's range
# The button pressed at each rotation, and the screen it opens: a different corner each time.
TARGETS = {0: ("return", "return"), 90: ("return", "return"), 180: ("ebooks", "ebooks"),
           270: ("account", "identify")}
SHOTS = ARTIFACTS / "rotation"


@pytest.fixture(scope="module")
def xserver():
    yield from own_xvfb.started(1400, 1400)


def on_panel(point: tuple[float, float], picture: tuple[int, int],
             clockwise: int) -> tuple[int, int]:
    """Where a point of the upright picture (x right, y down from its top-left corner; the
    picture `picture` wide and high) is on a panel that shows the picture turned `clockwise`
    degrees: 90 puts the picture's top on the panel's right edge."""
    x, y = point
    width, height = picture
    turned = {0: (x, y), 90: (height - 1 - y, x), 180: (width - 1 - x, height - 1 - y),
              270: (y, width - 1 - x)}[clockwise]
    return round(turned[0]), round(turned[1])


class RotatedApp:
    """tests/rotated_app.py running, its output lines collected as they come."""

    def __init__(self, config, display: str, home) -> None:
        env = {**os.environ, "DISPLAY": display, "HOME": str(home)}
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/rotated_app.py"), str(config)], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.log: list[str] = []
        threading.Thread(target=self._collect, args=(self.process.stdout, self.lines),
                         daemon=True).start()
        threading.Thread(target=self._collect, args=(self.process.stderr, self.log),
                         daemon=True).start()

    @staticmethod
    def _collect(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def report(self) -> dict:
        wait_until(lambda: any(line.startswith("{") for line in self.lines), 60,
                   "home screen report", process=self.process)
        return json.loads(next(line for line in self.lines if line.startswith("{")))

    def shown(self, screen: str) -> bool:
        return f"screen {screen}" in self.lines

    def press_on_panel(self, way: str, at: tuple[int, int]) -> None:
        self.process.stdin.write(f"{way} {at[0]} {at[1]}\n")
        self.process.stdin.flush()

    def touches(self) -> list[tuple[int, int]]:
        return [(int(x), int(y)) for _, x, y in
                (line.split() for line in self.lines if line.startswith("touch "))]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.mark.parametrize("way", ["xdotool", "press", "panel"])
@pytest.mark.parametrize("clockwise", sorted(TARGETS))
def test_a_press_where_a_button_is_seen_presses_that_button(tmp_path, xserver, clockwise, way):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n'
                      f'[display]\nwidth = {PANEL[0]}\nheight = {PANEL[1]}\nfullscreen = "no"\n'
                      f'rotation = {clockwise}\n', encoding="utf-8")
    app = RotatedApp(config, xserver.display, tmp_path)
    try:
        report = app.report()
        portrait = clockwise in (90, 270)
        picture = (PANEL[1], PANEL[0]) if portrait else PANEL
        # Laid out in the turned size: the screens see a portrait window, the panel is as made.
        assert report["window"] == list(picture) and report["root"] == list(picture)
        assert report["panel"] == list(PANEL)
        assert report["rotation"] == (360 - clockwise) % 360  # Kivy's counter-clockwise
        assert report["problems"] == []
        # X's pointer through SDL; a touchscreen X does not own, read by mtdev itself.
        assert report["input"] == {"mouse": "mouse,disable_multitouch",
                                   "%(name)s": "probesysfs,provider=mtdev"}

        name, opens = TARGETS[clockwise]
        x, y_up, width, height = report["buttons"][name]["rect"]
        top = picture[1] - (y_up + height)  # the picture's rows counted from its top
        corner = (x + 0.12 * width, top + 0.12 * height)  # inside the button, clear of text
        centre = (x + width / 2, top + height / 2)
        pointer = Pointer(TITLE, xserver.display, app.process)
        tint = tuple(round(255 * c) for c in report["buttons"][name]["tint"][:3])
        seen = on_panel(corner, picture, clockwise)
        pointer.wait(pointer.shows(seen, tint, tolerance=4),
                     f"the {name} button's colour {tint} at {seen} of the panel")
        SHOTS.mkdir(parents=True, exist_ok=True)
        pointer.picture().save(SHOTS / f"home-rotation-{clockwise}.png")
        at = on_panel(centre, picture, clockwise)
        if way == "xdotool":
            pointer.press(at, f"the {name} button", until=lambda: app.shown(opens))
        elif way == "press":
            app.press_on_panel(way, at)
            wait_until(lambda: app.shown(opens), 30, f"the {name} button's screen",
                       process=app.process)
        else:  # the touch controller's raw position of that pixel, the controller laid over
            # the panel as made (0 to PANEL_MAX along its width and down its height)
            raw = (round(at[0] / (PANEL[0] - 1) * PANEL_MAX),
                   round(at[1] / (PANEL[1] - 1) * PANEL_MAX))
            app.press_on_panel(way, raw)
            wait_until(lambda: app.shown(opens), 30, f"the {name} button's screen",
                       process=app.process)
        assert app.lines.count(f"screen {opens}") == 1
        # The touch, in the screens' own coordinates (y up), is the button's centre.
        (x_seen, y_seen), = app.touches()
        assert abs(x_seen - centre[0]) <= 1 and abs(y_seen - (picture[1] - 1 - centre[1])) <= 1
    finally:
        app.stop()
    assert app.process.returncode == 0, "\n".join(app.log[-40:])


@pytest.mark.parametrize("clockwise", [90, 180, 270])
def test_the_turn_is_the_one_the_config_names(clockwise):
    """The mapping above, checked on the corners of an 800x480 picture: the top-left corner
    goes to the top-right with 90 degrees clockwise, to the bottom-right with 180."""
    corners = {90: (479, 0), 180: (799, 479), 270: (0, 799)}
    assert on_panel((0, 0), (800, 480), clockwise) == corners[clockwise]
