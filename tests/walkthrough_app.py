"""`kiosk run --demo --walkthrough DIR [--size WxH]` in this process, with each screenshot's
moment recorded: which screens the screen manager drew then, how many screen headers the
window showed, whether that was the core's screen, whether the demo tray was on screen, and
what kiosk.ui.layout_check found wrong on it.
Prints them as one JSON list on its last line, for tests/test_walkthrough.py.

    python tests/walkthrough_app.py DIR fade|none [WIDTHxHEIGHT]

`fade` gives the screen manager a real 0.8 s transition, as an app with animated screens
would have: a tour that takes its pictures on a timer catches two screens at once.
"""

from __future__ import annotations

import json
import sys

import sized_app  # noqa: F401  beside this script: the project on sys.path, Kivy quiet

FADE_S = 0.8


def main(out: str, transition: str, size: str = "") -> int:
    from kiosk.cli.main import main as kiosk
    from kiosk.ui import boot

    shots: list[dict] = []
    prepare = boot.prepare

    def prepared(display) -> None:
        # Kivy's window is made when kiosk.ui.walkthrough is imported: only after Kivy's
        # settings, as `kiosk run` makes them.
        prepare(display)
        from kiosk.ui import walkthrough
        watch(walkthrough.Walkthrough, transition, shots)

    boot.prepare = prepared
    code = kiosk(["run", "--demo", "--walkthrough", out, *(["--size", size] if size else [])])
    print(json.dumps(shots), flush=True)
    return code


def watch(walkthrough, transition: str, shots: list[dict]) -> None:
    """Record the widget tree at each of the tour's screenshots, from its start on."""
    start = walkthrough.start

    def watched_start(tour) -> None:
        from kivy.core.window import Window
        from kivy.uix.screenmanager import FadeTransition

        app = tour.app
        if transition == "fade":
            app.screens.transition = FadeTransition(duration=FADE_S)
        screenshot = Window.screenshot

        def recorded(*args, **kwargs):
            from kiosk.ui.layout_check import check
            tray = getattr(app, "tray", None)
            shots.append({"name": kwargs.get("name", ""),
                          "screens": [child.name for child in app.screens.children],
                          "headers": len(list(headers(Window))),
                          "current": app.screens.current,
                          "core": app.runtime.view.screen.value,
                          "tray": tray is not None and tray.get_root_window() is not None,
                          "window": list(Window.size),
                          "problems": [str(p) for p in check(app.root, tuple(Window.size))]})
            return screenshot(*args, **kwargs)

        Window.screenshot = recorded
        start(tour)

    walkthrough.start = watched_start


def headers(widget):
    """The screen headers drawn under `widget`: shown and not faded out."""
    for child in widget.children:
        if child.opacity <= 0:
            continue
        if type(child).__name__ == "ScreenHeader":
            yield child
        yield from headers(child)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
