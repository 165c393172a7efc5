"""The real kiosk app in its own process (one window size per process), driven by touches
through the admin screen's USB panel against the real media helper (root, a real loop-mounted
stick: tests/test_admin_usb_batches.py starts both): the e-book batches listed, one refused
(signed with another key), one applied with the progress bar moving, each in Chinese and
English with screenshots; then the status list and the e-book screen show the new catalogue.
Exits 0 when all held.

    python tests/admin_usb_batches_app.py WIDTHxHEIGHT SOCKET DATA SHOTS
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import sized_app  # beside this script; it puts the project on sys.path and quiets Kivy

PIN = "2580"
ADDED = "000025"  # the first title the 2026-12 batch adds (tests/content_batches.py)
WITHDRAWN = "000021"


def main(size: str, socket_path: str, data: str, shots: str) -> int:
    from kiosk.core.pin import hash_pin

    os.environ["KIOSK_MEDIA_SOCKET"] = socket_path
    app, runtime = sized_app.start(
        size, Path(data), f'[admin]\npin_hash = "{hash_pin(PIN, iterations=100_000)}"\n'
                          '[devices]\nscanner = "sim:scanner"\n')
    from kiosk.core import events as ev  # Kivy's window only now, at the configured size
    from kiosk.media.protocol import Progress
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    k.frames(5)
    runtime.send(ev.AdminGesture())
    runtime.send(ev.PinSubmitted(PIN))
    k.until(lambda: k.screen == "admin")
    admin = k.current()
    k.until(lambda: admin.view.status is not None)
    k.tap(k.widget("admin", "usb"))
    panel = admin.usb_panel
    assert panel is not None and admin.usb_open, "the USB panel did not open"

    def shot(name: str, english: str) -> None:
        """The panel in Chinese, then in English (waiting for `english` in its message)."""
        k.frames(3)
        k.screenshot(f"usb-{name}-zh-{size}")
        runtime.send(ev.SetLanguage("en"))
        k.until(lambda: english in panel.message)
        k.frames(3)
        k.screenshot(f"usb-{name}-en-{size}")
        runtime.send(ev.SetLanguage("zh_CN"))
        k.until(lambda: english not in panel.message)

    def press(name: str) -> None:
        """The Apply (or Install) button of the row named `name`, scrolled into sight first as
        a person would, then pressed where it shows."""
        def row():
            return next((w for w in panel.ids.bundles.children[0].children
                         if getattr(w, "name", None) == name), None)
        k.until(lambda: row() is not None)
        view, rows = panel.ids.bundles, panel.ids.bundles.children[0]
        if rows.height > view.height:  # the row's bottom at the list's bottom, or below
            below = (row().y - rows.y) / (rows.height - view.height)
            view.scroll_y = max(0.0, min(view.scroll_y, below))
            k.frames(3)
        button = row().children[0]
        assert not button.disabled, f"{name} cannot be pressed"
        k.tap_at(*button.to_window(*button.center))

    k.until(lambda: panel.state == "choose", timeout=20)
    assert "2026-11-1" in panel.message, panel.message  # the catalogue the kiosk has
    rows = {row["name"]: row for row in panel.rows}
    assert rows["2026-12"]["can_install"] and "电子书批次" in rows["2026-12"]["detail"]
    assert rows["2026-12"]["button_text"] == "导入"
    bundle = rows["kiosk-0.3.0-arm64.raucb"]  # no RAUC here: listed, not offered
    assert not bundle["can_install"] and "setup.sh" in bundle["detail"], bundle
    shot("list", "Choose what to install or apply")

    press("foreign-2026-12.tar")
    k.until(lambda: panel.state == "failed", timeout=20)
    assert panel.message.startswith("没有任何改动。") and "签名" in panel.message, panel.message
    shot("refused", "not signed with this library's key")

    k.tap(panel.ids.look)
    k.until(lambda: panel.state == "choose", timeout=20)
    # Hold the worker at the first step between 0 and 100 % until the screen is taken.
    held, go, deliver = [], threading.Event(), panel.worker.deliver

    def held_deliver(call) -> None:
        deliver(call)
        step = (getattr(call, "args", None) or (None,))[0]
        if not held and isinstance(step, Progress) and 0 < (step.percent or 0) < 100:
            held.append(step)
            go.wait(60)
    panel.worker.deliver = held_deliver
    percents: list[float] = []
    panel.bind(percent=lambda _panel, value: percents.append(value))
    press("2026-12")
    k.until(lambda: held and panel.state == "applying" and 0 < panel.percent < 100, timeout=20)
    assert panel.ids.back.disabled and panel.ids.look.disabled
    assert panel.ids.progress.value == panel.percent and "MB" in panel.step, panel.step
    shot("applying", "Checking and applying the e-book batch 2026-12…")
    go.set()
    k.until(lambda: panel.state == "applied", timeout=30)
    assert percents[-1] == 100 and any(0 < p < 100 for p in percents), percents
    assert "2026-12 已导入" in panel.message and "更新 1 种，下架 2 种" in panel.message, \
        panel.message
    shot("applied", "1 updated, 2 withdrawn")

    # Back to the status list: its e-book check names the new version.
    k.tap(panel.ids.back)
    k.until(lambda: any("2026-12-1" in row.get("summary", "") for row in admin.rows),
            timeout=20)
    k.tap(k.widget("admin", "exit"))
    k.until(lambda: k.screen == "attract")
    runtime.send(ev.Start())
    k.until(lambda: k.screen == "home")
    runtime.send(ev.Navigate(ev.Screen.EBOOKS))
    k.until(lambda: k.screen == "ebooks")
    runtime.send(ev.ShowShelf("all"))
    ebooks = k.current()
    k.until(lambda: any(cell["title_id"] == ADDED for cell in ebooks.covers))
    assert all(cell["title_id"] != WITHDRAWN for cell in ebooks.covers)
    print("applied and shown", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
