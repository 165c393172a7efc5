"""The real kiosk app in a process of its own, doing what once left heavy libraries in its
memory for the rest of the day: it shows a title's QR code, applies a monthly batch as the
admin screen's USB panel does (kiosk.media.apply_process), and with `--search` searches
"红l". Prints on its last line, as JSON, which of those libraries its process holds and how
often each font file is open (tests/test_app_memory.py asserts on it).

    python tests/memory_app.py FIRST_BATCH SECOND_BATCH PUBLIC_KEY [--search]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import sized_app  # beside this script; it puts the project on sys.path and quiets Kivy

from bench.measure import resident_mb  # for the record: the test asserts on modules only

# What the patron process must never import: pinyin dictionaries (a search needs none),
# OpenCC, cryptography (a batch's signature is checked in the apply's own process) and
# qrcode's Pillow drawers (only its encoder draws the codes).
HEAVY = ("pypinyin", "opencc", "cryptography", "content.pinyin", "PIL.ImageDraw",
         "PIL.ImageFont", "PIL._imagingft", "qrcode.image.styles.moduledrawers.pil")
SECTIONS = """
[idle]
timeout_s = 3600
[ebooks]
download_base = "https://books.example.org"
"""
TITLE = "000001"
ADDED = "000031"  # in the second batch (tests/content_batches.py)


def heavy() -> list[str]:
    return sorted(name for name, module in sys.modules.items() if module is not None and any(
        name == h or name.startswith(h + ".") for h in HEAVY))


def open_fonts() -> Counter:
    found: Counter = Counter()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.endswith((".otf", ".ttf", ".ttc")):
            found[target] += 1
    return found


def main(first: str, second: str, public: str, *flags: str) -> int:
    from kiosk.media.apply_process import apply_elsewhere
    from kiosk.media.batch_apply import BatchApplied, BatchTarget

    data = Path(tempfile.mkdtemp(prefix="kiosk-memory-"))
    target = BatchTarget(data / "catalogue", Path(public))
    assert isinstance(apply_elsewhere(target, first, lambda _step: None), BatchApplied)
    app, runtime = sized_app.start("800x480", data, SECTIONS)
    from kiosk.core import events as ev
    from kiosk.core.events import Screen
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, data / "shots")
    send = runtime.send
    k.frames(4)
    report: dict = {"at_start": heavy(), "rss_mb": {"start": resident_mb()}}
    send(ev.Start())
    send(ev.Navigate(Screen.EBOOKS))
    send(ev.OpenTitle(TITLE))
    k.frames(4)
    report["qr_shown"] = k.current().qr is not None
    report["after_qr"] = heavy()
    report["rss_mb"]["qr"] = resident_mb()
    steps: list = []
    applied = apply_elsewhere(target, second, steps.append)
    report["applied"] = applied.report.version if isinstance(applied, BatchApplied) else None
    report["progress"] = [step.percent for step in steps]
    send(ev.Back())  # to the shelves
    send(ev.OpenTitle(ADDED))  # a title the new batch adds, with its code
    k.frames(4)
    report["showing"] = Path(runtime.library.version or "").name
    report["added_qr_shown"] = k.current().qr is not None
    report["after_apply"] = heavy()
    report["rss_mb"]["apply"] = resident_mb()
    if "--search" in flags:
        send(ev.Back())
        send(ev.OpenSearch())
        send(ev.SearchTyped("红l"))
        k.frames(4)
        report["searched"] = app.screens.current
        report["query"] = k.current().query  # searched on the screen, as typed
        report["rss_mb"]["search"] = resident_mb()
        report["after_search"] = heavy()
    report["fonts_open"] = dict(open_fonts())
    app.stop()
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
