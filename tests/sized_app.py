"""The real kiosk app in a process of its own at one window size, for the helpers that a test
runs as a subprocess (tests/admin_pin_app.py, tests/admin_usb_app.py): Kivy reads its window
size once per process. Import this module before anything of Kivy's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for name in ("KIVY_NO_ARGS", "KIVY_NO_CONFIG", "KIVY_NO_FILELOG"):
    os.environ.setdefault(name, "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")


def start(size: str, data: Path, sections: str, *, demo: bool = False):
    """The app and its runtime on a `size` ("800x480") window, with `sections` of kiosk.toml
    beside [kiosk] and [display] (with the demo tray when `demo`); its first frame not yet
    drawn."""
    from kiosk import config as config_module
    from kiosk.journal import Journal
    from kiosk.runtime import Runtime, SteerableClock
    from kiosk.ui import boot

    width, height = size.split("x")
    path = data / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{data}"\n'
                    f'[display]\nwidth = {width}\nheight = {height}\nfullscreen = "no"\n'
                    + sections, encoding="utf-8")
    config = config_module.load(path)
    boot.prepare(config.display)
    from kivy.base import runTouchApp

    from kiosk.ui.app import KioskApp

    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    app = KioskApp(runtime, demo=demo)
    app._run_prepare()
    runTouchApp(embedded=True)
    return app, runtime
