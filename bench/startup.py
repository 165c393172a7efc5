"""Start-up benchmark: process start to the attract screen's first frame, and memory after start.

Runs the real app (`python -m kiosk run --demo`) several times on the display in $DISPLAY
(run it under xvfb-run on a machine without one) and writes the medians to bench/RESULTS.md.
Targets on a developer machine: first frame under 2 s and under 150 MB resident, because a
Raspberry Pi 4 is several times slower.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.results import write_section  # noqa: E402
from kiosk.cli.common import DEMO_CONFIG  # noqa: E402

SETTLE_S = 2.0  # after the first frame, before memory is read
TARGET_FIRST_FRAME_S = 2.0
TARGET_RSS_MB = 150.0


def one_run(workdir: Path) -> tuple[float, float]:
    config = workdir / "kiosk.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'data_dir = "~/.local/share/kiosk-demo"', f'data_dir = "{workdir / "data"}"'),
        encoding="utf-8")
    marker = workdir / "first-frame"
    marker.unlink(missing_ok=True)
    env = dict(os.environ, KIOSK_FIRST_FRAME_FILE=str(marker))
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--demo", "--config", str(config)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = started + 60
        while not marker.exists() or not marker.read_text():
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("the kiosk did not draw a frame: "
                                   + proc.stderr.read().decode(errors="replace")[-2000:])
            time.sleep(0.01)
        first_frame = float(marker.read_text()) - started
        time.sleep(SETTLE_S)
        rss_kb = next(int(line.split()[1]) for line in Path(f"/proc/{proc.pid}/status").open()
                      if line.startswith("VmRSS:"))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return first_frame, rss_kb / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        print("bench: no display; run: xvfb-run -a .venv/bin/python bench/startup.py", file=sys.stderr)
        return 2
    frames, rss = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            first_frame, rss_mb = one_run(Path(tmp))
            frames.append(first_frame)
            rss.append(rss_mb)
            print(f"run {i + 1}: first frame {first_frame:.3f} s, resident {rss_mb:.1f} MB")
    ff, mem = statistics.median(frames), statistics.median(rss)
    verdict = lambda ok: "meets target" if ok else "MISSES target"  # noqa: E731
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Xvfb + Mesa; {args.runs} runs, medians.",
        "",
        "| measure | median | range | target | |",
        "|---|---|---|---|---|",
        f"| process start to first frame of the attract screen | {ff:.2f} s | "
        f"{min(frames):.2f}-{max(frames):.2f} s | < {TARGET_FIRST_FRAME_S} s | {verdict(ff < TARGET_FIRST_FRAME_S)} |",
        f"| resident memory {SETTLE_S:.0f} s after the first frame | {mem:.0f} MB | "
        f"{min(rss):.0f}-{max(rss):.0f} MB | < {TARGET_RSS_MB:.0f} MB | {verdict(mem < TARGET_RSS_MB)} |",
    ]
    write_section("Start-up (bench/startup.py)", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
