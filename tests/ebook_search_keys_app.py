"""The real kiosk app (demo: its keyboard plays the simulated scanner elsewhere) at one window
size, in a process of its own on the X server in $DISPLAY, driven by real X input (XTEST
through xdotool): a USB keyboard types into the e-book search, Backspace and Enter edit it,
Escape and Ctrl+W do nothing; the keyboard's hide key, the bar's "show keyboard" button and the
search field are pressed with the X pointer. Asserts on the widget tree (covers on the rows,
the keyboard hidden and shown), saves screenshots, prints a JSON report on its last line and
exits 0 when all held (tests/test_ebook_search_keys.py runs it).

    python tests/ebook_search_keys_app.py WIDTHxHEIGHT BATCH PUBLIC_KEY SHOTS
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
timeout_s = 3600
[devices]
scanner = "sim:scanner"
"""
TITLE = "Library kiosk"


def main(size: str, batch: str, public: str, shots: str) -> int:
    from content.store import CatalogueStore

    data = Path(tempfile.mkdtemp(prefix="kiosk-search-keys-"))
    CatalogueStore(data / "catalogue").apply(Path(batch), Path(public))
    # 红楼梦's cover lost from the card: its row draws the placeholder, the search goes on.
    (data / "catalogue" / "current" / "covers" / "000001.jpg").unlink()
    app, runtime = sized_app.start(size, data, SECTIONS, demo=True)
    from kivy.core.window import Window
    from kivy.uix.label import Label

    from kiosk.core import events as ev
    from kiosk.ui.layout_check import check
    from kiosk.ui.screens.ebook_search import ResultRow
    from tests import own_xvfb
    from tests.kiosk_driver import KioskDriver

    class XDriver(KioskDriver):
        """Frames that also read SDL's events: X input reaches the app only through them (the
        embedded loop that tests drive polls no window otherwise)."""

        def frames(self, n: int = 3) -> None:
            for _ in range(n):
                Window.mainloop()
                super().frames(1)

    k = XDriver(app, Path(shots))
    display = os.environ["DISPLAY"]
    k.frames(5)
    x, y, _width, height = own_xvfb.window(display, TITLE)

    def xdotool(*args: str) -> None:
        subprocess.run(["xdotool", *args], check=True, env={**os.environ, "DISPLAY": display})

    def press(widget) -> None:
        """A real pointer press at the widget's centre (X counts y from the top)."""
        cx, cy = widget.to_window(*widget.center)
        xdotool("mousemove", str(x + int(cx)), str(y + height - int(cy)))
        xdotool("click", "1")

    runtime.send(ev.Start())
    runtime.send(ev.SetLanguage("zh_CN"))
    runtime.send(ev.Navigate(ev.Screen.EBOOKS))
    runtime.send(ev.OpenSearch())
    k.until(lambda: k.screen == "ebook_search")
    search = k.current()
    k.frames(3)
    info = subprocess.run(["xwininfo", "-display", display, "-name", TITLE], check=True,
                          text=True, capture_output=True).stdout
    window_id = info.split("Window id:")[1].split()[0]
    xdotool("windowfocus", "--sync", window_id)
    report: dict[str, object] = {}

    xdotool("type", "--delay", "40", "HLX")
    k.until(lambda: search.query == "HLX", timeout=10)
    xdotool("key", "BackSpace")
    k.until(lambda: search.query == "HL", timeout=10)
    xdotool("type", "--delay", "40", "m")
    k.until(lambda: search.query == "HLm", timeout=10)
    results = k.widget("ebook_search", "results")
    k.until(lambda: results.data and results.data[0]["title_id"] == "000001", timeout=10)
    report["typed"] = search.query

    def placeholder(row) -> str:
        """The character drawn where the row's cover is not, if it shows."""
        return next((w.text for w in row.walk() if w is not row and isinstance(w, Label)
                     and w.opacity == 1 and len(w.text) == 1), "")
    k.until(lambda: app.covers.failed, timeout=10)
    k.frames(3)
    first = next(r for r in results.children[0].children if r.title_id == "000001")
    report["placeholder"] = [placeholder(first), first.texture]
    k.screenshot(f"search-keys-placeholder-{size}")
    for keys in (["Escape"], ["ctrl+w"], ["alt+F4"], ["F1"]):
        xdotool("key", "--clearmodifiers", *keys)
    k.wait(0.5)
    assert k.screen == "ebook_search" and search.query == "HLm", (k.screen, search.query)
    assert app.root.notice_text == "", app.root.notice_text  # nothing reached the scanner
    xdotool("key", "Delete")
    k.until(lambda: search.query == "", timeout=10)
    xdotool("type", "--delay", "40", "s")
    k.until(lambda: search.query == "s" and len(results.data) > 3, timeout=10)

    def rows():
        return [w for w in results.children[0].children if isinstance(w, ResultRow)]
    k.until(lambda: rows() and all(r.texture is not None for r in rows()), timeout=10)
    report["rows_drawn"] = len(rows())
    report["rows_found"] = len(results.data)
    report["row_height"] = rows()[0].height
    keyboard_height = results.height
    k.screenshot(f"search-keys-typed-{size}")

    xdotool("key", "Return")  # typing is over: the results take the keyboard's room
    k.until(lambda: not search.keyboard_shown, timeout=10)
    k.frames(4)
    report["results_height"] = [keyboard_height, results.height]
    assert results.height > keyboard_height * 1.5, report
    k.until(lambda: all(r.texture is not None for r in rows()), timeout=10)
    report["rows_drawn_hidden"] = len(rows())
    report["problems_hidden"] = [str(p) for p in check(app.root, tuple(Window.size))]
    k.screenshot(f"search-keys-hidden-{size}")
    # Covers are asked for only as rows come into sight: scrolled to the end, the last has its.
    last = results.data[-1]["title_id"]
    assert not any(r.title_id == last for r in rows())
    results.scroll_y = 0
    k.until(lambda: any(r.title_id == last and r.texture for r in rows()), timeout=10)
    report["scrolled_to_last"] = True
    results.scroll_y = 1
    k.frames(4)
    runtime.send(ev.SetLanguage("en"))
    k.frames(4)
    report["problems_hidden_en"] = [str(p) for p in check(app.root, tuple(Window.size))]
    k.screenshot(f"search-keys-hidden-en-{size}")
    runtime.send(ev.SetLanguage("zh_CN"))
    k.frames(4)

    press(k.widget("ebook_search", "show_keys"))
    k.until(lambda: search.keyboard_shown, timeout=10)
    k.frames(4)
    hide = next(b for line in k.widget("ebook_search", "keyboard").children
                for b in line.children if b.text == "收起")
    press(hide)
    k.until(lambda: not search.keyboard_shown, timeout=10)
    k.frames(4)
    press(search.search_field)  # the query in the header
    k.until(lambda: search.keyboard_shown, timeout=10)
    report["pointer"] = "show, hide, field"
    app.stop()
    print(json.dumps(report, ensure_ascii=False, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
