"""The real kiosk app in its own process (one window size per process), driven by touches
through the admin screen's USB panel against the real media helper (root, a real loop-mounted
stick: tests/test_admin_usb_batches.py starts both): the e-book batches listed, each by its
manifest's name and titles and how it stands against the catalogue, one refused (signed with
another key), one applied with the progress bar moving, the refusal and the result said in
both languages, the screen's first; screenshots of each in Chinese and English; then the
list again, and the status list and the e-book screen show the new catalogue.
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
    from kiosk.ui.typescale import SIZES as fs
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    k.frames(5)
    admin = k.open_admin(runtime, PIN)
    k.tap(k.widget("admin", "usb"))
    panel = admin.usb_panel
    assert panel is not None and admin.usb_open, "the USB panel did not open"

    def shot(name: str, english: str) -> None:
        """The panel in Chinese, then in English (`english` in its message); the message whole
        on the screen, or scrollable."""
        for lang in ("zh_CN", "en"):
            runtime.send(ev.SetLanguage(lang))
            k.until(lambda lang=lang: panel.lang == lang)
            k.frames(3)
            assert lang != "en" or english in panel.message, panel.message
            assert_message_fits()
            assert_rows_as_listed()
            k.screenshot(f"usb-{name}-{lang.removesuffix('_CN')}-{size}")
        runtime.send(ev.SetLanguage("zh_CN"))
        k.until(lambda: panel.lang == "zh_CN")

    def assert_message_fits() -> None:
        view, message = panel.ids.message_view, panel.ids.message
        assert message.texture_size[1] <= message.height, "the message is cut"
        assert view.y >= panel.ids.look.top, "the message runs under the buttons"
        if message.height > view.height + 1:  # taller than its room: it scrolls
            assert view.height > 3 * fs["small"], view.height

    def assert_rows_as_listed() -> None:
        """Each row in sight shows its own data (the list reuses widgets from row to row)."""
        listed = {data["file"]: data for data in panel.rows}
        for row in panel.ids.bundles.children[0].children:
            data = listed[row.file]
            assert (row.name, row.detail, row.standing) == (
                data["name"], data["detail"], data.get("standing", "")), (row.file, row.standing)
            texts = row.children[-1].children  # name, detail and standing, one above the other
            assert sum(text.texture_size[1] for text in texts) <= row.height, (
                row.file, [text.texture_size for text in texts], row.height)

    def in_order(message: str, first: str, second: str) -> None:
        assert first in message and second in message, message
        assert message.index(first) < message.index(second), message

    def press(name: str) -> None:
        """The Apply (or Install) button of the row of the file `name`, scrolled into sight
        first as a person would, then pressed where it shows."""
        def row():
            return next((w for w in panel.ids.bundles.children[0].children
                         if getattr(w, "file", None) == name), None)
        view, rows = panel.ids.bundles, panel.ids.bundles.children[0]
        k.until(lambda: rows.height > 0)
        if rows.height > view.height:  # scrolled as little as brings the whole row in sight
            # From the list's data: the list makes widgets only for the rows in sight.
            heights = [data["height"] for data in panel.rows]
            index = next(i for i, data in enumerate(panel.rows) if data["file"] == name)
            bottom = rows.height - sum(heights[:index + 1]) - rows.spacing * index
            hidden = rows.height - view.height
            lowest, highest = (bottom + heights[index] - view.height) / hidden, bottom / hidden
            view.scroll_y = max(0.0, lowest, min(view.scroll_y, highest, 1.0))
            k.frames(3)
        k.until(lambda: row() is not None)
        button = row().children[0]
        assert not button.disabled, f"{name} cannot be pressed"
        k.tap_at(*button.to_window(*button.center))

    k.until(lambda: panel.state == "choose", timeout=20)
    assert "2026-11-1" in panel.message, panel.message  # the catalogue the kiosk has
    assert "一次导入一个" in panel.message and "先导入 2026-12" in panel.message, panel.message
    rows = {row["file"]: row for row in panel.rows}
    assert rows["2026-12"]["can_install"] and "电子书批次" in rows["2026-12"]["detail"]
    assert rows["2026-12"]["button_text"] == "导入"
    # Each batch by its manifest's name and titles, and how it stands; Apply only when newer.
    said = {file: (row["name"], row["detail"].split(" — ")[0], row["can_install"],
                   row["standing"].split("（")[0].split("：")[0])
            for file, row in rows.items() if file != "kiosk-0.3.0-arm64.raucb"}
    assert said == {
        "2026-10.tar": ("2026-10", "24 种书", False, "比本机电子书目录旧"),
        "2026-11.tar": ("2026-11", "24 种书", False, "已导入"),
        "2026-12": ("2026-12", "8 种书", True, "比本机电子书目录"),
        "foreign-2026-12.tar": ("2026-12", "8 种书", True, "比本机电子书目录"),
        "2027-01.tar": ("2027-01", "8 种书", False, "较新，但需先导入 2026-12"),
        "broken.tar": ("broken.tar", "电子书批次 broken.tar, 约 0.0 MB", False, "无法读取"),
    }, said
    assert "--allow-older" in rows["2026-10.tar"]["standing"]
    bundle = rows["kiosk-0.3.0-arm64.raucb"]  # no RAUC here: listed, not offered
    assert not bundle["can_install"] and "setup.sh" in bundle["detail"], bundle
    shot("list", "Choose what to install or apply")
    panel.ids.bundles.scroll_y = 0  # the list's end: the rows with Apply
    shot("list-end", "Choose what to install or apply")

    press("foreign-2026-12.tar")
    k.until(lambda: panel.state == "failed", timeout=20)
    in_order(panel.message, "没有任何改动。", "Nothing was changed. This batch is not signed")
    assert panel.message.startswith("没有任何改动。") and "签名" in panel.message, panel.message
    shot("refused", "not signed with this library's key")
    runtime.send(ev.SetLanguage("en"))
    k.until(lambda: panel.lang == "en")
    in_order(panel.message, "Nothing was changed. This batch is not signed", "没有任何改动。")
    runtime.send(ev.SetLanguage("zh_CN"))
    k.until(lambda: panel.lang == "zh_CN")

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
    in_order(panel.message, "更新 1 种，下架 2 种", "5 titles added, 1 updated, 2 withdrawn")
    shot("applied", "1 updated, 2 withdrawn")

    # Looked at again: the next batch is the one to apply, the applied one is current.
    k.tap(panel.ids.look)
    k.until(lambda: panel.state == "choose", timeout=20)
    rows = {row["file"]: row for row in panel.rows}
    assert rows["2027-01.tar"]["can_install"] and not rows["2026-12"]["can_install"]
    assert rows["2026-12"]["standing"].startswith("已导入"), rows["2026-12"]
    assert rows["2026-11.tar"]["standing"].startswith("比本机电子书目录旧"), rows["2026-11.tar"]
    shot("relisted", "Choose what to install or apply")

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
