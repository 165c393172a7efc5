"""The admin screen's status list laid out at several window sizes in one process, with a
realistic report (long faults with advice, devices on long paths, staff tasks): walks the list
from top to bottom and prints, as JSON, what does not fit at each size (tests/test_admin_layout.py
asserts there is nothing). With a SHOTS folder it also saves a screenshot per size.

    python tests/admin_layout_app.py LANG:SIZE[,LANG:SIZE...] [SHOTS [NAME]]

One window, resized between sizes; the kiosk's type scale is set for each size before a fresh
AdminScreen is made, as the app does once at start (kiosk.ui.typescale)."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for name in ("KIVY_NO_ARGS", "KIVY_NO_CONFIG", "KIVY_NO_FILELOG"):
    os.environ.setdefault(name, "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

WHEN = datetime(2026, 11, 24, 6, 5, tzinfo=timezone.utc)
BUTTONS = ("usb", "refresh", "upload", "restart", "exit")
SOURCES = {"printer": "sim:printer", "rfid": "sim:3m810", "scanner": "sim:scanner"}


def report():
    """What a kiosk with a taken download port, an unsynchronised clock, no ILS and a refused
    offline loan shows: the checks as kiosk.status makes them."""
    from kiosk.core.session_view import DeviceState
    from kiosk.i18n import N_  # the msgids kiosk.status uses, so that they translate
    from kiosk.ils.offline_store import OfflineTransaction
    from kiosk.journal.store import Row
    from kiosk.status import Check, Message, StatusReport, check_version

    devices = {
        "printer": DeviceState("connected", "/dev/pts/2 at 19200 baud, 32 columns, gb18030", 0),
        "rfid": DeviceState("connected", "3m810 5.0.2 on /dev/serial/by-id/"
                            "usb-3M_810_RFID_Reader_A1B2C3D4-if00-port0", 0, faults=12),
        "scanner": DeviceState("lost", "/dev/input/by-id/usb-Honeywell_Imaging_Metrologic_"
                               "Scanner-event-kbd: [Errno 19] No such device", 0),
    }
    checks = (
        check_version(),
        Check("config", True, Message(N_("read from {files}"), {
            "files": "/etc/kiosk/kiosk.toml, /boot/firmware/kiosk/kiosk-override.toml"})),
        Check("journal", True, Message(N_("{rows} rows, {unsent} not yet uploaded"),
                                       {"rows": 12_345, "unsent": 63})),
        Check("disk", True, Message(N_("{free} free of {total}, and a {reserve} reserve the "
                                       "kiosk can release"),
                                    {"free": "73.0 GB", "total": "252.0 GB", "reserve": "4 MB"})),
        Check("clock", False, Message(N_("not synchronised; new rows are marked so")),
              Message(N_("check the network and time servers: timedatectl status"))),
        Check("ebooks", True, Message(
            N_("{titles} titles licensed today ({version}); the last pull from the central "
               "server failed: {why}"),
            {"titles": 1932, "version": "2026-11-1",
             "why": "the central server could not be asked for e-book batches: "
                    "https://central.library.example.cn/api/v1/batches: ConnectionError: "
                    "Connection refused; the kiosk keeps its catalogue (2026-11-1)"}),
            Message(N_("the kiosk keeps this catalogue; see journalctl -u kiosk-pull: the next "
                       "update window tries again")), warning=True),
        Check("downloads", False, Message(
            N_("cannot listen on {address}: {error}; the title pages show no download code"),
            {"address": "0.0.0.0:8080", "error": "[Errno 98] Address already in use"}),
            Message(N_("stop the program that holds the port, or set [ebooks] port to a free "
                       "one, then restart the kiosk"))),
        Check("ils", False, Message(N_("cannot connect to {address}: {error}"), {
            "address": "ils.library.example.cn:6001",
            "error": "timed out after 5.0 s (no answer to the SIP2 login)"}),
            Message(N_("check the network cable and the ILS's SIP2 service"))),
        Check("central", None, Message(N_("not configured")),
              Message(N_("set [central] url"))),
        Check("offline", True, Message(N_("offline mode is off"))),
    )
    refused = (OfflineTransaction(7, "checkout", None, "**********4566", "33520000123461",
                                  "红楼梦（脂评汇校本·上下册）", WHEN, 11, "refused",
                                  "Item on hold for another patron until 2026-12-01", WHEN,
                                  False, 1),)
    unsettled = (Row(40, WHEN.isoformat(), "boot", True, "intent", "checkin",
                     "33520000123479", "The Very Hungry Caterpillar", None, None),)
    return devices, StatusReport(checks, WHEN, refused, unsettled)


def start(first: tuple[int, int]):
    from kiosk.config import DisplaySection
    from kiosk.ui import boot
    boot.prepare(DisplaySection(width=first[0], height=first[1], fullscreen="no"))
    from kivy.core.window import Window
    from kivy.lang import Builder

    import kiosk.ui.widgets  # noqa: F401  (BigButton and the other widgets kv names)
    from kiosk.ui.fonts import use_cjk_font
    use_cjk_font(Path(tempfile.mkdtemp(prefix="kiosk-admin-layout-")))
    for name in ("widgets.kv", "screens/admin_usb.kv", "screens/admin_sound.kv",
                 "screens/admin.kv"):
        Builder.load_file(str(ROOT / "kiosk/ui" / name))
    return Window


def frames(count: int) -> None:
    from kivy.base import EventLoop
    for _ in range(count):
        EventLoop.idle()


def settle(screen) -> None:
    """Frames until the list stops moving: a row's height follows its text a frame later."""
    last = None
    for _ in range(30):
        frames(2)
        layout = screen.ids.status.children[0]
        now = [(v.y, v.height) for v in layout.children] + [layout.height]
        if now == last:
            return
        last = now


def labels(widget):
    from kivy.uix.label import Label
    return [w for w in widget.walk(restrict=True) if isinstance(w, Label) and w.text]


def misfits(widget, where: str) -> list[str]:
    """Each label's text drawn at its own width must fit inside it, and inside `widget`."""
    problems = []
    for label in labels(widget):
        tw, th = label.texture_size
        text = label.text.replace("\n", " ")[:40]
        if label.shorten:
            problems.append(f"{where}: {text!r} is cut short")
        if th > label.height + 1 or tw > label.width + 1:
            problems.append(f"{where}: {text!r} needs {tw}x{th}, has "
                            f"{label.width:.0f}x{label.height:.0f}")
        if label is not widget and (label.y < widget.y - 1 or label.top > widget.top + 1):
            problems.append(f"{where}: {text!r} sticks out of its row")
    return problems


def measure(window, size: tuple[int, int], lang: str, shots: Path | None, name: str) -> dict:
    from kivy.uix.recycleview.views import _cached_views

    from kiosk.core.events import Screen
    from kiosk.core.session_view import View
    from kiosk.i18n import Translator
    from kiosk.ui import typescale
    from kiosk.ui.screens.admin import AdminScreen

    window.size = size
    typescale.configure(size)
    screen = AdminScreen(name="admin", translator=Translator(), lang=lang, send=lambda e: None,
                         device_sources=SOURCES)
    devices, status = report()
    screen.now = 125.0
    window.add_widget(screen)
    screen.show(View(screen=Screen.ADMIN, language=lang, devices=devices, status=status))
    problems: list[str] = []
    try:
        settle(screen)
        rv = screen.ids.status
        layout = rv.children[0]
        seen: dict[int, tuple[float, float]] = {}
        scrolls = layout.height > rv.height + 1
        steps = 1 if not scrolls else math.ceil((layout.height - rv.height) / (rv.height * 0.8)) + 1
        for step in range(steps):
            rv.scroll_y = 1 - step / (steps - 1) if steps > 1 else 1
            settle(screen)
            views = sorted(layout.children, key=lambda v: -v.y)
            for view in views:
                index = layout.view_indices[view]
                seen[index] = (view.y, view.top)
                problems += misfits(view, f"row {index}")
                if view.height > rv.height:
                    problems.append(f"row {index} is taller than the list")
            for upper, lower in zip(views, views[1:]):
                if lower.top > upper.y + 1:
                    problems.append(f"rows {layout.view_indices[upper]} and "
                                    f"{layout.view_indices[lower]} overlap")
            if shots and step in (0, steps // 2):  # the top, and the middle of a long list
                frames(3)
                middle = "-middle" if step else ""
                target = shots / f"{name}-{size[0]}x{size[1]}{middle}.png"
                Path(window.screenshot(name=str(target))).replace(target)
        missing = sorted(set(range(len(screen.rows))) - set(seen))
        if missing:
            problems.append(f"rows never shown: {missing}")
        if scrolls:
            rv.scroll_y = 0
            settle(screen)
            last = max(layout.view_indices.values())
            view = next(v for v, i in layout.view_indices.items() if i == last)
            bottom = rv.to_widget(*view.to_window(view.x, view.y))[1]
            if last != len(screen.rows) - 1 or bottom < -1:
                problems.append("scrolled to the end, the last row does not show")
            if shots:
                frames(3)
                target = shots / f"{name}-{size[0]}x{size[1]}-end.png"
                Path(window.screenshot(name=str(target))).replace(target)
        for button in BUTTONS:
            widget = screen.ids[button]
            problems += misfits(widget, f"button {button}")
            if widget.texture_size[1] > 2 * widget.font_size:
                problems.append(f"button {button}: {widget.text!r} wraps")
            if widget.y < -1 or widget.right > size[0] + 1:
                problems.append(f"button {button} is off the screen")
        # The header's switch to the other language ("English" is longer at large sizes).
        header = next(w for w in screen.walk() if type(w).__name__ == "ScreenHeader")
        switch = next(w for w in header.children if type(w).__name__ == "LanguageButton")
        problems += misfits(switch, "the language switch")
        if switch.texture_size[1] > 1.6 * switch.font_size:
            problems.append(f"the language switch: {switch.text!r} wraps")
        return {"problems": problems, "scrolls": scrolls, "rows": len(screen.rows),
                "verdicts": {row["name"]: row["verdict"] for row in screen.rows
                             if "verdict" in row}}
    finally:
        # RecycleView keeps spare rows for every list in the process (once the list has let
        # them go, a frame later): rows made at this size carry its font sizes, which the app
        # sets once, at start.
        screen.rows = []
        frames(3)
        window.remove_widget(screen)
        _cached_views.clear()


def main(cases: str, shots: str = "", name: str = "admin-status") -> int:
    wanted = [(lang, tuple(int(n) for n in size.split("x")))
              for lang, size in (case.split(":") for case in cases.split(","))]
    window = start(wanted[0][1])
    folder = Path(shots) if shots else None
    if folder:
        folder.mkdir(parents=True, exist_ok=True)
    results = {f"{lang}:{w}x{h}": measure(window, (w, h), lang, folder, f"{name}-{lang}")
               for lang, (w, h) in wanted}
    print(json.dumps(results, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
