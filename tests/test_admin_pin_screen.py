"""The staff PIN pad's lockout on the real app under X, driven by touches, in its own process
at 720x1280 (portrait; tests/test_ui.py has it at 800x480): how long it lasts, counting down,
in Chinese then English, with the keypad off meanwhile. Screenshots go to artifacts/i15/."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ARTIFACTS, ROOT

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                                 reason="needs Xvfb: run ./setup.sh test")]
SHOTS = ARTIFACTS / "i15"


@pytest.mark.parametrize("size", ["720x1280"])  # 800x480: tests/test_ui.py, in-process
def test_the_lockout_says_how_long_and_turns_the_keypad_off(size):
    done = subprocess.run([sys.executable, str(ROOT / "tests/admin_pin_app.py"), size,
                           str(SHOTS)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "lockout shown, counted down and lifted" in done.stdout
    assert (SHOTS / f"admin-pin-locked-{size}.png").stat().st_size > 5000
