"""The UI tests' driver taps where the patron sees a widget, even straight after the kiosk
starts: before Kivy's first frame nothing is laid out (every widget sits at (0, 0), the
staff corner among them), so a tap computed then landed on the wrong widget."""

import os

import pytest

if not os.environ.get("DISPLAY"):
    pytest.skip("no display: run ./setup.sh test, which starts Xvfb", allow_module_level=True)

from tests.embedded_kiosk import embedded_kiosk  # noqa: E402

pytestmark = pytest.mark.ui


def test_a_tap_straight_after_the_start_reaches_the_invitation(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[devices]\nscanner = "sim:scanner"\n'
                    'rfid = "sim:3m810?scenario=demo&paced=no"\nprinter = "sim:printer"\n',
                    encoding="utf-8")
    with embedded_kiosk(path) as k:
        corner = k.app.root.ids.staff_corner
        assert tuple(corner.pos) != (0, 0), "the kiosk is handed over before its first frame"
        k.touch_to_start()
        assert k.screen == "home"
