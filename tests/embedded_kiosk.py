"""The real kiosk app in the test's own process, over a steerable clock, for the UI tests to
drive: `with embedded_kiosk(config_path) as driver:` gives a tests.kiosk_driver.KioskDriver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk import config as config_module
from kiosk.journal import Journal
from kiosk.runtime import Runtime, SteerableClock
from kiosk.ui import boot
from tests.conftest import ARTIFACTS


@contextmanager
def embedded_kiosk(config_path: Path, *, demo: bool = True,
                   shots: Path = ARTIFACTS / "screenshots",
                   before_app: Callable[[], object] | None = None) -> Iterator:
    """Kivy is set up from the config first (its window is made on import); `before_app`
    runs after that and before the app is made (to put a recording layer under Kivy)."""
    config = config_module.load(config_path)
    boot.prepare(config.display)
    from kivy.base import runTouchApp, stopTouchApp
    from kivy.core.window import Window

    from kiosk.ui.app import KioskApp
    from tests.kiosk_driver import KioskDriver

    wanted = (config.display.width, config.display.height)
    if not config.display.rotation and tuple(Window.size) != wanted:
        # Kivy makes one window per process, on first use: an earlier test drew a texture.
        raise RuntimeError(f"Kivy's window was made before this kiosk, at {Window.size} not "
                           f"{wanted}: a test in this process drew with Kivy before it")
    if before_app is not None:
        before_app()
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    app = KioskApp(runtime, demo=demo)
    app._run_prepare()
    runTouchApp(embedded=True)
    driver = KioskDriver(app, shots)
    driver.settle()  # a person first sees the kiosk drawn: nothing is laid out before that
    try:
        yield driver
    finally:
        stopTouchApp()
        app.stop()
