"""One kiosk catching up after 90 days offline at 1,500 transactions a day (135,000 journal
rows), against the real central server (central/, SQLite) on loopback.

Three measures: the kiosk's own share (rows to counts, no network); the upload flat out (no
pause, no cap per run); and the catch-up as the timer runs it with the default [central]
settings (2,000 rows a batch, 20 batches a run, 1 s between batches), whose wall time on a
kiosk is that of the runs plus the 15 minutes between timer runs.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import scratch_folder  # noqa: E402
from bench.results import write_section  # noqa: E402
from kiosk import config as config_module  # noqa: E402
from kiosk.journal import Journal  # noqa: E402
from kiosk.upload.run import next_batch, upload  # noqa: E402
from tests.central_server import add_kiosk, sqlite_central, totals  # noqa: E402
from tests.upload_journal import START, fill  # noqa: E402

TIMER_MIN = 15


def kiosk_config(work: Path, name: str, url: str, token: str, extra: str = ""):
    data = work / name
    data.mkdir(parents=True)
    (data / "central.token").write_text(token + "\n")
    (data / "central.token").chmod(0o600)
    path = work / f"{name}.toml"
    path.write_text(f'[kiosk]\nid = "{name}"\ndata_dir = "{data}"\n'
                    f'[central]\nurl = "{url}"\n{extra}', encoding="utf-8")
    return config_module.load(path)


def copy_journal(source: Path, config) -> None:
    config.journal_path.write_bytes(source.read_bytes())


def count_only(journal_path: Path, batch_rows: int) -> tuple[float, int]:
    started = time.perf_counter()
    batches = 0
    with Journal.open_existing(journal_path) as journal:
        done = 0
        while batch := next_batch(journal, done, None, batch_rows):
            done, batches = batch.last_seq, batches + 1
    return time.perf_counter() - started, batches


def upload_all(config) -> tuple[float, int, int, list[float]]:
    """Runs `kiosk upload` until nothing is unsent: seconds, runs, batches, per-run seconds."""
    runs, batches, per_run = 0, 0, []
    started = time.perf_counter()
    while True:
        run_started = time.perf_counter()
        report = upload(config)
        per_run.append(time.perf_counter() - run_started)
        if report.error:
            raise SystemExit(f"upload failed: {report.error}")
        runs, batches = runs + 1, batches + len(report.batches)
        if report.unsent_rows == 0:
            return time.perf_counter() - started, runs, batches, per_run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--per-day", type=int, default=1500)
    args = parser.parse_args()
    rows = args.days * args.per_day
    work = scratch_folder("bench-catch-up-")
    source = work / "journal.sqlite3"
    print(f"writing {rows} journal rows ...", file=sys.stderr)
    fill(source, work / "patron.key", days=args.days, per_day=args.per_day, start=START,
         fast=True)
    with Journal.open_existing(source) as journal:
        journal._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one file to copy
    count_s, count_batches = count_only(source, 2000)

    with sqlite_central(work / "central") as central:
        flat = kiosk_config(work, "flat-out", central.url, add_kiosk(central.storage, "flat-out"),
                            "max_batches_per_run = 10000\npause_s = 0.0\n")
        copy_journal(source, flat)
        flat_s, flat_runs, flat_batches, _ = upload_all(flat)
        assert sum(totals(central.storage, "flat-out").values()) == rows

        timer = kiosk_config(work, "timer", central.url, add_kiosk(central.storage, "timer"))
        copy_journal(source, timer)
        timer_s, timer_runs, timer_batches, per_run = upload_all(timer)
        assert sum(totals(central.storage, "timer").values()) == rows
        settings = timer.central

    wall_min = (timer_runs - 1) * TIMER_MIN + per_run[-1] / 60
    lines = [
        f"{args.days} days offline at {args.per_day:,} transactions a day: {rows:,} journal "
        f"rows, against the real central server (SQLite) on loopback in the same process. "
        f"Machine: {platform.machine()}, Python {platform.python_version()}.",
        "",
        "| measure | batches | time | rows/s |",
        "|---|---|---|---|",
        f"| rows to counts only (kiosk side, 2,000-row batches) | {count_batches} | "
        f"{count_s:.1f} s | {rows / count_s:,.0f} |",
        f"| upload flat out (no pause, one run) | {flat_batches} | {flat_s:.1f} s | "
        f"{rows / flat_s:,.0f} |",
        f"| upload with the defaults ({settings.batch_rows:,} rows a batch, "
        f"{settings.max_batches_per_run} a run, {settings.pause_s:g} s apart): {timer_runs} runs "
        f"| {timer_batches} | {sum(per_run):.1f} s running | {rows / sum(per_run):,.0f} |",
        "",
        f"With the defaults a kiosk is caught up after {timer_runs} timer runs, about "
        f"{math.ceil(wall_min)} minutes ({timer_runs - 1} x {TIMER_MIN} min between runs plus "
        f"the last run), and sends the server at most one batch per {settings.pause_s:g} s "
        f"pause plus the server's answer time; the runs' own time is mostly those pauses. "
        f"Each run also sends one heartbeat.",
    ]
    write_section("Catch-up after 90 days offline (bench/catch_up.py)", lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
