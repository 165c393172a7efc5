"""The real kiosk app with its config's [display] rotation, in a process of its own, for
tests/test_rotation.py. It opens the home screen and prints one JSON line: the window's size
as the screens see it and as the panel has it, Kivy's rotation and [input] settings, the
layout check's problems, and each service button's rectangle (window coordinates, y up) and
tint. Then it prints `screen NAME` for every screen the core shows and `touch X Y` (window
coordinates, y up) for every touch, until it is stopped. A line `press X Y` on its standard
input presses at panel pixel (X, Y) (from the panel's top-left corner) through Kivy's own mouse
provider, as SDL hands it a touchscreen's touch under KMS.

    python tests/rotated_app.py CONFIG
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import sized_app  # noqa: F401  beside this script: the project on sys.path, Kivy quiet

BUTTONS = ("borrow", "return", "ebooks", "account")


def main(config_path: str) -> int:
    from kiosk import config as config_module
    from kiosk.ui import boot

    config = config_module.load(Path(config_path))
    boot.prepare(config.display)
    from kivy.clock import Clock
    from kivy.config import Config
    from kivy.core.window import Window

    from kiosk.core import events as ev
    from kiosk.runtime import Runtime, SteerableClock
    from kiosk.ui.app import KioskApp
    from kiosk.ui.layout_check import check

    runtime = Runtime(config, clock=SteerableClock())
    app = KioskApp(runtime)
    shown: list[str] = []

    def on_view(view) -> None:
        if not shown or shown[-1] != view.screen.value:
            shown.append(view.screen.value)
            print(f"screen {view.screen.value}", flush=True)

    def report(_dt: float, since: int | None = None) -> None:
        # A screen made just now is laid out in the frames after it shows: wait for three.
        if app.screens.current != "home" or app.screens.transition.is_active:
            Clock.schedule_once(report, 0.1)
            return
        if since is None or Clock.frames < since + 3:
            start = Clock.frames if since is None else since
            Clock.schedule_once(lambda dt: report(dt, start), 0.05)
            return
        home = app.screens.get_screen("home")
        buttons = {name: {"rect": [*home.ids[name].to_window(*home.ids[name].pos),
                                   *home.ids[name].size],
                          "tint": list(home.ids[name].tint)} for name in BUTTONS}
        print(json.dumps({"window": list(Window.size), "panel": list(Window.system_size),
                          "rotation": Window.rotation, "root": list(app.root.size),
                          "input": dict(Config.items("input")), "buttons": buttons,
                          "problems": [str(p) for p in check(app.root, tuple(Window.size))]}),
              flush=True)

    def touched(_window, touch) -> None:
        print(f"touch {touch.x:.0f} {touch.y:.0f}", flush=True)

    def press(x: int, y: int) -> None:
        # What WindowSDL does with SDL's mouse button events: panel pixels, top-left origin.
        Window.dispatch("on_mouse_down", x, y, "left", {})
        Window.dispatch("on_mouse_up", x, y, "left", {})

    def read_presses() -> None:  # its own thread: the press itself runs on Kivy's
        for line in sys.stdin:
            if line.startswith("press "):
                x, y = (int(n) for n in line.split()[1:3])
                Clock.schedule_once(lambda _dt, x=x, y=y: press(x, y))

    def started(_app) -> None:
        runtime.on_view.append(on_view)
        Window.bind(on_touch_down=touched)
        threading.Thread(target=read_presses, daemon=True).start()
        runtime.send(ev.Start())
        Clock.schedule_once(report, 0.3)

    app.bind(on_start=started)
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
