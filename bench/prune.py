"""Pruning a journal of 600,000 rows (800 days of a busy kiosk, every row uploaded) to the
default 400 days, while the kiosk goes on appending a row every 50 ms in another process.

Measures the prune (rows removed, seconds, bytes given back) and how long the kiosk's appends
waited meanwhile: the prune works in short transactions so that a patron's row is never held up
for long. The rows come from tests/journal_rows.py (a quick generator, not the app).
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import scratch_folder  # noqa: E402
from bench.results import write_section  # noqa: E402
from kiosk.journal import Journal  # noqa: E402
from kiosk.journal import prune as prune_module  # noqa: E402
from tests.journal_rows import add_rows, days_ago  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APPENDER = """
import select, sys, time
from kiosk.journal import Journal
journal = Journal.open(sys.argv[1], sys.argv[2])
print("ready", flush=True)
while not select.select([sys.stdin], [], [], 0.05)[0]:  # until the bench closes our stdin
    started = time.perf_counter()
    journal.append("session", "ok")
    print(f"{time.perf_counter() - started:.6f}", flush=True)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--days", type=int, default=800)
    parser.add_argument("--keep-days", type=int, default=400)
    args = parser.parse_args()
    work = scratch_folder("bench-prune-")
    path = work / "journal.sqlite3"
    started = time.perf_counter()
    add_rows(path, args.rows, start=days_ago(args.days),
             step=timedelta(days=args.days) / args.rows, sent_upto=args.rows)
    made = time.perf_counter() - started
    size_before = path.stat().st_size
    print(f"{args.rows} rows made in {made:.1f} s ({size_before >> 20} MB)", file=sys.stderr)

    appender = subprocess.Popen([sys.executable, "-c", APPENDER, str(path),
                                 str(work / "patron.key")], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
    assert appender.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # a few appends before the prune starts
    with Journal.open_existing(path) as journal:
        started = time.perf_counter()
        result = journal.prune(args.keep_days)
        seconds = time.perf_counter() - started
        time.sleep(0.5)
        appender.stdin.close()
        waits = [float(line) for line in appender.stdout.read().split()]
        appender.wait()
        problems = journal.verify()
    size_after = path.stat().st_size
    pages = int(result.reclaim.split("(")[1].split()[0]) if "(" in result.reclaim else 0
    steps = (math.ceil(result.rows / prune_module.BATCH_ROWS)
             + math.ceil(pages / prune_module.VACUUM_STEP_PAGES))
    if problems:
        raise SystemExit(f"the journal is not sound after the prune: {problems[:3]}")
    machine = (f"{platform.machine()}, Python {platform.python_version()}, "
               f"{platform.system()} {platform.release()}")
    lines = [
        f"Machine: {machine}; the journal on {_filesystem(work)}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| rows in the journal (all uploaded, {args.days} days) | {args.rows:,} |",
        f"| rows pruned (older than {args.keep_days} days) | {result.rows:,} |",
        f"| prune, space given back included | {seconds:.1f} s |",
        f"| of which pauses between transactions ({steps} x {prune_module.PAUSE_S * 1000:.0f} "
        f"ms) | {steps * prune_module.PAUSE_S:.1f} s |",
        f"| file before / after | {size_before / 2**20:.0f} MB / {size_after / 2**20:.0f} MB |",
        f"| how the space came back | {result.reclaim} |",
        f"| the kiosk's appends meanwhile (one each 50 ms) | {len(waits)} |",
        f"| their median / longest wait | {statistics.median(waits) * 1000:.1f} ms / "
        f"{max(waits) * 1000:.0f} ms |",
        "",
        f"The prune removes {prune_module.BATCH_ROWS:,} rows a transaction and gives "
        f"{prune_module.VACUUM_STEP_PAGES} pages back a step, and leaves the write lock free "
        f"{prune_module.PAUSE_S * 1000:.0f} ms between two, so the kiosk's writes wait for one "
        "such step at most. Made by bench/prune.py (rows from tests/journal_rows.py, not the "
        "app).",
    ]
    print("\n".join(lines))
    write_section("Pruning a journal of 600,000 rows (bench/prune.py)", lines)
    return 0


def _filesystem(folder: Path) -> str:
    try:
        out = subprocess.run(["df", "--output=fstype", str(folder)], capture_output=True,
                             text=True, check=True).stdout.split()
        return f"{out[-1]} ({folder.parent})"
    except (OSError, subprocess.CalledProcessError, IndexError):
        return str(folder.parent)


if __name__ == "__main__":
    sys.exit(main())
