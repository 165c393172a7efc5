"""The real kiosk app at one window size, in a process of its own, on the attract screen with a
catalogue and the library's notices: real X pointer input (xdotool) on a cover opens that
title; the accessibility button (also pressed through X) opens an accessible session, whose
text is larger, colours stronger and idle timeout doubled; Finish ends it. Runs the layout
check on each screen, saves screenshots, and prints a JSON report on its last line
(tests/test_attract_screen.py asserts on it).

    python tests/attract_app.py WIDTHxHEIGHT BATCH PUBLIC_KEY SHOTS

With BATCH "-": no catalogue and no notices, the attract screen alone (as before covers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import sized_app  # beside this script; it puts the project on sys.path and quiets Kivy

SECTIONS = """
[idle]
timeout_s = 60
countdown_s = 15
[attract]
cover_s = 3
[[attract.notices]]
zh = "12月25日至1月1日闭馆，请使用还书箱还书"
en = "Closed 25 December to 1 January: please use the book drop"
"""
TITLE = "Library kiosk"


def main(size: str, batch: str, public: str, shots: str) -> int:
    from content.store import CatalogueStore

    data = Path(tempfile.mkdtemp(prefix="kiosk-attract-"))
    if batch == "-":
        return bare(size, data, shots)
    CatalogueStore(data / "catalogue").apply(Path(batch), Path(public))
    app, runtime = sized_app.start(size, data, SECTIONS)
    from kivy.core.window import Window

    from kiosk.core import events as ev
    from kiosk.core.events import Screen
    from kiosk.ui import typescale
    from kiosk.ui.layout_check import check, faint
    from kiosk.ui.palette import HIGH_CONTRAST_RATIO
    from tests import own_xvfb
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    report: dict = {"size": size}
    width, height = Window.size

    def press(widget) -> None:
        """A real X pointer press and release on `widget`, through the X server."""
        x, y = widget.to_window(*widget.center)
        left, top, _, _ = own_xvfb.window(os.environ["DISPLAY"], TITLE)
        env = dict(os.environ)
        for args in (["mousemove", str(round(left + x)), str(round(top + height - y))],
                     ["mousedown", "1"], ["mouseup", "1"]):
            subprocess.run(["xdotool", *args], env=env, check=True)
            for _ in range(5):  # SDL's queue, read as Kivy's own loop reads it, a frame each
                Window.mainloop()
                k.frames(1)

    def visit(name: str) -> None:
        k.frames(4)
        problems = [str(p) for p in check(app.root, (width, height))]
        report[name] = {"screen": app.screens.current, "problems": problems,
                        "body": typescale.SIZES["body"], "accessible": app.accessible}
        k.screenshot(f"{name}-{size}")

    k.frames(5)
    attract = k.current()
    wall = attract.ids.wall
    k.until(lambda: wall.cells > 0 and all(t.texture is not None for t in wall.children
                                           if t.opacity), timeout=20)
    report["cells"] = int(wall.cells)
    report["pool"] = len(attract.pool)
    report["notice"] = [attract.notice_zh, attract.notice_en]
    report["badges"] = sorted({t.badge for t in wall.children if t.opacity})
    visit("attract")
    # The next set comes by itself, after cover_s.
    first_set = [c.title_id for c in attract.shown]
    k.until(lambda: [c.title_id for c in attract.shown] != first_set, timeout=15)
    report["sets"] = [first_set, [c.title_id for c in attract.shown]]
    # A missing cover: the drawn one, with the title (the sets stopped, as when leaving).
    attract.on_leave()
    tile = next(t for t in reversed(wall.children) if t.opacity)
    report["drawn"] = _drawn(tile, k)
    k.screenshot(f"attract-drawn-{size}")
    tile.show(tile.cover, attract.covers_cache, tile.badge)
    k.frames(3)

    # A real press on the second cover opens that title's page.
    chosen = list(reversed(wall.children))[1]
    press(chosen)
    k.until(lambda: k.screen == "ebook_title", timeout=20)
    report["opened"] = [chosen.cover.title_id, runtime.view.ebooks.title_id]
    visit("ebook_title")
    runtime.send(ev.EndSession())
    k.until(lambda: k.screen == "attract")
    k.frames(3)  # the title just viewed is the most viewed here now
    report["badges_after"] = sorted({t.badge for t in k.current().ids.wall.children
                                     if t.opacity})

    # The accessibility button, pressed through X as well.
    before = typescale.SIZES["body"]
    press(k.current().ids.access)
    k.until(lambda: k.screen == "home" and app.accessible, timeout=20)
    report["body_before"] = before
    visit("home-accessible")
    home = k.current()
    report["home_faint"] = faint(home, HIGH_CONTRAST_RATIO)
    report["home_fonts"] = sorted({round(w.font_size) for w in home.walk()
                                   if hasattr(w, "font_size") and getattr(w, "text", "")})
    for screen, name in ((Screen.EBOOKS, "ebooks-accessible"),
                         (Screen.BORROW, "identify-accessible"),
                         (Screen.RETURN, "return-accessible")):
        runtime.send(ev.Navigate(screen))
        visit(name)
        runtime.send(ev.Navigate(Screen.HOME))
    # Twice the idle timeout: no question at 60 s, the question at 120 s counting from 30.
    k.advance(61)
    report["countdown_at_61"] = runtime.view.countdown
    k.advance(60)
    report["countdown_at_121"] = runtime.view.countdown
    visit("countdown-accessible")
    runtime.send(ev.Touch())
    k.frames(3)
    # Home's own button turns it off again, then on; Finish ends it with the session.
    runtime.send(ev.SetAccessible(False))
    k.until(lambda: not app.accessible)
    report["body_off"] = typescale.SIZES["body"]
    visit("home")
    runtime.send(ev.SetAccessible(True))
    k.until(lambda: app.accessible)
    runtime.send(ev.EndSession())
    k.until(lambda: k.screen == "attract" and not app.accessible)
    report["body_after"] = typescale.SIZES["body"]
    visit("attract-after")
    app.stop()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


def bare(size: str, data: Path, shots: str) -> int:
    """The attract screen with nothing to invite with: no covers, no notice box."""
    app, _runtime = sized_app.start(size, data, "")
    from kivy.core.window import Window

    from kiosk.ui.layout_check import check
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    k.frames(8)
    attract = k.current()
    report = {"size": size, "pool": len(attract.pool), "shelf": list(attract.ids.shelf.size),
              "notice": [attract.notice_zh, attract.notice_en],
              "problems": [str(p) for p in check(app.root, tuple(Window.size))]}
    k.screenshot(f"attract-bare-{size}")
    app.stop()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


def _drawn(tile, k) -> dict:
    """The tile given a title whose cover file is missing: its title drawn on a tint."""
    from dataclasses import replace

    missing = replace(tile.cover, path=tile.cover.path + ".missing.jpg")
    cache = k.current().covers_cache
    tile.show(missing, cache, tile.badge)
    k.until(lambda: missing.path in cache.failed, timeout=10)
    k.frames(3)
    labels = [w for w in tile.children if getattr(w, "text", "")]
    return {"texts": [w.text for w in labels], "opacity": [w.opacity for w in labels],
            "texture": tile.texture is not None}

if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
