"""The headless walkthrough's pictures show one settled screen each: never two screens (and two
headers) caught mid-transition, always the screen the core shows, without the demo tray, at
every size the kiosk ships on. tests/walkthrough_app.py runs the real `kiosk run --demo
--walkthrough` and records the widget tree at each screenshot; with a real 0.8 s fade between
screens, a tour that shoots on a timer fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests import own_xvfb
from tests.conftest import ARTIFACTS, ROOT

SIZES = ["800x480", "1024x600", "1280x800", "1920x1080", "720x1280", "1080x1920"]
# The suite tours the portrait panel; ./setup.sh system-test (-m system) tours the rest, and
# the smallest landscape one with the slow fade (the first test), keeping the suite under its
# ten minutes. Every screen at every size is laid out and checked by tests/test_screen_sizes.py.
IN_SYSTEM_TEST = {"800x480", "1024x600", "1280x800", "1920x1080", "1080x1920"}
TOURED = [pytest.param(size, marks=pytest.mark.system) if size in IN_SYSTEM_TEST else size
          for size in SIZES]
STEPS = 22  # every step of kiosk.ui.walkthrough with the demo's devices, ILS and PIN
SHOTS = ARTIFACTS / "walkthrough"


@pytest.fixture(scope="module")
def xserver():
    yield from own_xvfb.started(2000, 2000)


def tour(xserver, home, out, transition: str, size: str = "") -> tuple[list[dict], float]:
    env = {**os.environ, "DISPLAY": xserver.display, "HOME": str(home)}
    began = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "tests/walkthrough_app.py"), str(out),
                           transition, *([size] if size else [])], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), time.monotonic() - began


def stacked(shots: list[dict]) -> dict[str, object]:
    """Each picture that does not show the core's screen alone, with what it showed."""
    return {shot["name"].rsplit("/", 1)[-1]: shot for shot in shots
            if len(shot["screens"]) != 1 or shot["headers"] > 1
            or shot["current"] != shot["core"]}


@pytest.mark.ui
@pytest.mark.system
def test_pictures_wait_for_a_slow_transition_to_end(xserver, tmp_path):
    shots, _ = tour(xserver, tmp_path, tmp_path / "shots", "fade", "800x480")
    settled_and_laid_out(shots, "800x480")


def settled_and_laid_out(shots: list[dict], size: str) -> None:
    assert len(shots) == STEPS
    assert stacked(shots) == {}
    assert not any(shot["tray"] for shot in shots)  # the screens as patrons see them
    # Laid out as tests/test_screen_sizes.py requires, in the order a patron meets the screens
    # (a screen laid out square first, then turned portrait, kept stale sizes there).
    assert {shot["name"].rsplit("/", 1)[-1]: shot["problems"] for shot in shots
            if shot["problems"]} == {}
    width, height = (int(n) for n in size.split("x"))
    assert {tuple(shot["window"]) for shot in shots} == {(width, height)}


@pytest.mark.ui
@pytest.mark.slow
@pytest.mark.parametrize("size", TOURED)
def test_every_size_is_toured_one_settled_screen_a_picture(xserver, tmp_path, size):
    out = SHOTS / size
    for old in out.glob("*.png"):
        old.unlink()
    shots, seconds = tour(xserver, tmp_path, out, "none", size)
    print(f"walkthrough at {size}: {seconds:.1f} s")
    settled_and_laid_out(shots, size)
    pictures = sorted((SHOTS / size).glob("*.png"))
    assert len(pictures) == STEPS and all(p.stat().st_size > 5000 for p in pictures)


@pytest.mark.parametrize(("given", "told"), [
    ("1080x1920", None), ("720X1280", None), ("wide", "'wide' is not a size like 1080x1920"),
    ("100x480", "a width of 100 is not between 320 and 7680"),
    ("800x9999", "a height of 9999 is not between 240 and 4320"),
])
def test_the_size_option_takes_what_display_width_and_height_take(given, told, capsys,
                                                                  monkeypatch):
    from kiosk.cli.main import build_parser
    monkeypatch.setenv("LANG", "C.UTF-8")
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    parser = build_parser()
    if told is None:
        args = parser.parse_args(["run", "--size", given])
        assert args.size == tuple(int(n) for n in given.lower().split("x"))
        return
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--size", given])
    assert told in capsys.readouterr().err
