"""The e-book cover grid: frame time while scrolling through all 2,000 sample titles, and the
memory the app holds before and after every cover has been on screen.

Runs the real app (800x480, as the demo) on the sample catalogue and scrolls the "all titles"
shelf from top to bottom in steps of a few pixels per frame, as a flick does, timing each
frame on the main thread (layout, cell reuse, textures, drawing), against frames of the same
shelf standing still; memory against an empty Kivy window of the same size, both measured in
the same run. `--before FILE` shows a run of the code before issue 20 beside. Run it under Xvfb:
`xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python -m bench.cover_grid`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONFIG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
from bench.measure import (  # noqa: E402
    MachineLoad,
    Spread,
    Timing,
    machine_line,
    ratio_text,
    resident_mb,
    scratch_folder,
    time_calls,
)
from bench.results import publish  # noqa: E402

FRAME_BUDGET_MS = 1000 / 60
STILL_FRAMES = 300
SECTION = "E-book cover grid (bench/cover_grid.py)"
APPLY = """
import sys
from pathlib import Path
from content.store import CatalogueStore
from kiosk.demo.sample_batch import sample_batch
batch, public = sample_batch(2000)
CatalogueStore(Path(sys.argv[1])).apply(batch, public)
"""


def empty_window_mb(workdir: Path) -> float:
    """The resident memory of an empty Kivy window (bench/bare_window.py) at the same size,
    SETTLE_S after its first frame: Python, Kivy, SDL and the OpenGL driver, no kiosk."""
    from bench.startup import HERE, Subject, one_run
    bare = Subject("empty window", [sys.executable, str(HERE / "bench/bare_window.py")], HERE)
    return one_run(bare, workdir).rss_mb


def frame_spread(times: list[Timing]) -> tuple[Spread, Spread, float]:
    """(wall ms, CPU ms, worst wall ms) of frames timed in seconds."""
    wall = Spread.of(t.wall_s * 1000 for t in times)
    cpu = Spread.of(t.cpu_s * 1000 for t in times)
    return wall, cpu, max(t.wall_s for t in times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--step-px", type=float, default=12.0, help="scrolled per frame")
    parser.add_argument("--label", default="now", help="which code ran: 'before' or 'now'")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--before", type=Path, help="the output of a run on the code before "
                        "issue 20 (--label before --no-write), shown beside this run's")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("needs a display: run under xvfb-run", file=sys.stderr)
        return 2
    from kiosk import config as config_module
    from kiosk.core import events as ev
    from kiosk.journal import Journal
    from kiosk.runtime import Runtime, SteerableClock
    from kiosk.ui import boot

    data = scratch_folder("bench-grid-")
    # Made and applied in another process, as on a kiosk: this one's memory is the app's alone.
    subprocess.run([sys.executable, "-c", APPLY, str(data / "catalogue")], check=True)
    # The session outlasts the scroll: at the default idle timeout the kiosk went back to the
    # attract screen part-way, and the frames after that scrolled a shelf no one saw.
    (data / "kiosk.toml").write_text(f'[kiosk]\ndata_dir = "{data}"\n[display]\nwidth = 800\n'
                                     'height = 480\n[idle]\ntimeout_s = 3600\n',
                                     encoding="utf-8")
    config = config_module.load(data / "kiosk.toml")
    boot.prepare(config.display)
    from kivy.base import EventLoop, runTouchApp
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    app = KioskApp(runtime)
    app._run_prepare()
    runTouchApp(embedded=True)

    Clock._max_fps = 0  # no 60 fps limiter sleeping inside the frames we time

    def settle(frames: int) -> None:
        for _ in range(frames):
            EventLoop.idle()
            time.sleep(0.01)

    with MachineLoad() as load:
        settle(10)
        runtime.send(ev.Start())
        runtime.send(ev.Navigate(ev.Screen.EBOOKS))
        runtime.send(ev.ShowShelf("all"))
        settle(30)
        # The baseline, in the same run: the same shelf drawn again with nothing moving.
        from kivy.core.window import Window

        def still_frame() -> None:
            Window.canvas.ask_update()
            EventLoop.idle()

        flips = [0]
        Window.bind(on_flip=lambda *_: flips.__setitem__(0, flips[0] + 1))
        still = time_calls(still_frame, STILL_FRAMES, warmup=10)
        flips[0] = 0
        before = resident_mb()
        grid = app.screens.get_screen("ebooks").ids.grid
        titles = len(grid.data)
        scrollable = grid.children[0].height - grid.height
        steps = int(scrollable // args.step_px) + 1
        offsets = iter(range(1, steps + 1))

        def scroll_frame() -> None:
            grid.scroll_y = max(0.0, 1 - next(offsets) * args.step_px / scrollable)
            EventLoop.idle()  # one frame: clock events, input, layout, drawing, buffer swap

        scrolled = time_calls(scroll_frame, steps, warmup=0)
        drawn = flips[0]
        if app.screens.current != "ebooks" or drawn < steps * 0.99:
            print(f"the shelf left the screen while it scrolled ({app.screens.current} showing, "
                  f"{drawn} of {steps} frames drawn): no figures", file=sys.stderr)
            return 1
        settle(100)  # the last covers arrive from the decoding thread
        after = resident_mb()
        empty = empty_window_mb(data)
    wall, cpu, worst = frame_spread(scrolled)
    still_wall, still_cpu, _ = frame_spread(still)
    over = sum(t.wall_s * 1000 > FRAME_BUDGET_MS for t in scrolled)
    lines = [
        f"{machine_line()}, Xvfb with llvmpipe (software OpenGL): a Pi's GPU draws faster, its "
        f"CPU decodes slower; {load.describe()}. Code: {args.label}.",
        "",
        f"The \"all titles\" shelf of the 2,000-title sample ({titles} licensed today), 800x480, "
        f"scrolled top to bottom at {args.step_px:.0f} px a frame ({len(scrolled)} frames, "
        f"{drawn} of them drawn). Baseline: {STILL_FRAMES} frames of the same shelf standing "
        "still, each drawn again (Kivy skips a frame whose canvas did not change), after a "
        "warm-up; "
        "memory against an empty Kivy window of the same size started in the same run "
        "(bench/bare_window.py). CPU is the whole process's (the cover decoder's thread "
        "included).",
        "",
        "| measure | scrolling | standing still (baseline) | ratio |",
        "|---|---|---|---|",
        f"| frame, wall, median | {wall.median:.1f} ms | {still_wall.median:.1f} ms | "
        f"{ratio_text(wall.median, still_wall.median)} |",
        f"| frame, wall, p95 | {wall.p95:.1f} ms | {still_wall.p95:.1f} ms | "
        f"{ratio_text(wall.p95, still_wall.p95)} |",
        f"| frame, CPU, median (p95) | {cpu.median:.1f} ms ({cpu.p95:.1f}) | "
        f"{still_cpu.median:.1f} ms ({still_cpu.p95:.1f}) | "
        f"{ratio_text(cpu.median, still_cpu.median)} |",
        f"| frame, wall, worst | {worst:.1f} ms | | |",
        f"| frames over the 16.7 ms of 60 fps | {over} of {len(scrolled)} | | |",
        "",
        "| resident memory | the kiosk | empty window | the kiosk's own share |",
        "|---|---|---|---|",
        f"| on the shelf, before scrolling | {before:.0f} MB | {empty:.0f} MB | "
        f"{before - empty:.0f} MB |",
        f"| after every cover has been on screen | {after:.0f} MB | {empty:.0f} MB | "
        f"**{after - empty:.0f} MB** |",
        "",
        "Covers are decoded at reduced size on a worker thread and kept in a 120-texture LRU "
        "(kiosk/ui/cover_cache.py), so a scroll through all 2,000 adds only what that cap "
        "holds, however far a patron scrolls. A Raspberry Pi Zero 2 W has 512 MB: the whole "
        "kiosk with every cover shown is the \"after\" figure, the empty window's share of it "
        "on this machine mostly llvmpipe's software renderer.",
    ]
    publish(SECTION, lines, before=args.before, write=not args.no_write)
    app.covers.close()
    runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
