"""The real kiosk app with its config's [display] rotation, in a process of its own, for
tests/test_rotation.py. It opens the home screen and prints one JSON line: the window's size
as the screens see it and as the panel has it, Kivy's rotation and [input] settings, the
layout check's problems, and each service button's rectangle (window coordinates, y up) and
tint. Then it prints `screen NAME` for every screen the core shows and `touch X Y` (window
coordinates, y up) for every touch, until it is stopped. Lines on its standard input press:
`press X Y` at panel pixel (X, Y) (from the panel's top-left corner) through Kivy's mouse
provider, as SDL hands it X's pointer; `panel X Y` a touch at raw touch-controller position
(X, Y) (0 to PANEL_MAX each way, laid over the panel as made) through Kivy's real mtdev
provider, the one a Pi uses under KMS, with libmtdev's device replaced by a scripted one.

    python tests/rotated_app.py CONFIG
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import sized_app  # noqa: F401  beside this script: the project on sys.path, Kivy quiet

BUTTONS = ("borrow", "return", "ebooks", "account")
PANEL_MAX = 4095  # the scripted touch controller's range on both axes, as many report


class ScriptedPanel:
    """libmtdev's Device as Kivy's mtdev provider uses it, playing one touch: protocol B's
    slot, tracking id, position and sync, then the lift."""

    def __init__(self, touch: tuple[int, int]) -> None:
        from types import SimpleNamespace

        from kivy.lib import mtdev as lib

        def event(kind: int, code: int, value: int):
            return SimpleNamespace(type=kind, code=code, value=value)

        abs_, syn = lib.MTDEV_TYPE_EV_ABS, lib.MTDEV_TYPE_EV_SYN
        self.events = [event(abs_, lib.MTDEV_CODE_SLOT, 0),
                       event(abs_, lib.MTDEV_CODE_TRACKING_ID, 7),
                       event(abs_, lib.MTDEV_CODE_POSITION_X, touch[0]),
                       event(abs_, lib.MTDEV_CODE_POSITION_Y, touch[1]), event(syn, 0, 0),
                       event(abs_, lib.MTDEV_CODE_TRACKING_ID, -1), event(syn, 0, 0)]
        self.range = SimpleNamespace(minimum=0, maximum=PANEL_MAX)

    def __call__(self, _path: str) -> ScriptedPanel:  # the provider's Device(path)
        return self

    def get_abs(self, _axis: int):
        return self.range

    def idle(self, _ms: int) -> bool:
        if self.events:
            return False
        time.sleep(0.05)
        return True

    def get(self):
        return self.events.pop(0) if self.events else None

    def close(self) -> None:
        pass


def touch_panel(at: tuple[int, int]) -> None:
    """One touch through a new mtdev provider reading the scripted panel."""
    from kivy.base import EventLoop
    from kivy.input.providers import mtdev

    mtdev.Device = ScriptedPanel(at)  # read by the provider's thread when it opens the panel
    provider = mtdev.MTDMotionEventProvider("panel", "/dev/input/scripted")
    EventLoop.add_input_provider(provider)
    provider.start()


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

    ways = {"press": press, "panel": lambda x, y: touch_panel((x, y))}

    def read_presses() -> None:  # its own thread: the press itself runs on Kivy's
        for line in sys.stdin:
            way, x, y = line.split()
            Clock.schedule_once(lambda _dt, way=way, x=int(x), y=int(y): ways[way](x, y))

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
