"""Writing the e-book catalogue: time, CPU and peak memory of `write_catalogue` for 20,000,
200,000 and (`--sizes`) a million titles, against the same titles written into a plain table
with an FTS5 trigram index in the same run.

Each build runs in a child process of its own (peak memory is the child's, from os.wait4's
resource usage: its ru_maxrss, the same figure RUSAGE_CHILDREN gives), so one build's
memory never hides in another's. Titles come from bench/search.py's generator in the child,
for both, in two sets: as generated, where titles and authors repeat (the word lists make a
few thousand different titles), and made distinct by a subtitle from a second draw (178,793
different titles of 200,000), nearer a real library, where reading each distinct text once
saves little.
Targets: 200,000 titles in <= 30 s and <= 60 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import MachineLoad, machine_line, ratio_text  # noqa: E402
from bench.results import publish, saved_lines  # noqa: E402
from bench.search import generated, titles  # noqa: E402
from content.title import Title  # noqa: E402

SECTION = "E-book catalogue build (bench/catalogue_build.py)"
ROOT = Path(__file__).resolve().parent.parent
TARGET = {200_000: (30.0, 60.0)}  # seconds, MB
CHILD = {
    "catalogue": ("from content.catalogue import write_catalogue\n"
                  "write_catalogue(OUT, made(COUNT))\n"),
    "baseline": ("from bench.search import TrigramBaseline\n"
                 "TrigramBaseline.build(OUT, COUNT, made)\n"),
}
SETS = ("repeating", "distinct")


def distinct_titles(count: int) -> Iterator[Title]:
    """The generator's titles, each given a subtitle from a second draw: "A：B"."""
    for title, second in zip(titles(count), generated(count, seed=6)):
        yield replace(title, title=f"{title.title}：{second.title}")


TITLE_SETS: dict[str, Callable[[int], Iterable[Title]]] = {
    "repeating": titles, "distinct": distinct_titles}


def build(kind: str, count: int, title_set: str, out: Path) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, file bytes) of one build in a child process."""
    script = ("import sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[3])\n"
              "from bench.catalogue_build import TITLE_SETS\n"
              "OUT, COUNT, made = Path(sys.argv[1]), int(sys.argv[2]), TITLE_SETS[sys.argv[4]]\n"
              + CHILD[kind])
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", script, str(out), str(count), str(ROOT),
                              title_set], cwd=ROOT)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{kind} build of {count} failed: {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.stat().st_size


def build_row(count: int, title_set: str) -> str:
    """One table row: our build and the baseline's of `count` titles of one set."""
    folder = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        base = build("baseline", count, title_set, folder / "baseline.sqlite3")
        ours = build("catalogue", count, title_set, folder / "catalogue.sqlite3")
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    different = len({t.title for t in TITLE_SETS[title_set](count)})
    target = TARGET.get(count)
    verdict = "" if target is None else (
        "meets" if ours[0] <= target[0] and ours[2] <= target[1] else "MISSES")
    return (f"| {count:,} | {different:,} ({title_set}) | {ours[0]:.1f} s | {ours[1]:.1f} s | "
            f"{ours[2]:.0f} MB | {ours[3] / 1e6:.1f} MB | {base[0]:.1f} s | {base[1]:.1f} s | "
            f"{base[2]:.0f} MB | {base[3] / 1e6:.1f} MB | {ratio_text(ours[0], base[0])} | "
            f"{ratio_text(ours[1], base[1])} | {ratio_text(ours[2], base[2])} | {verdict} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--label", default="now", help="which code ran: 'before' or 'now'")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--before", type=Path, help="the output of a run on the code before "
                        "issue 20 (--label before --no-write), shown beside this run's")
    parser.add_argument("--earlier", type=Path, help="the output of a run on an earlier commit "
                        "(--label <commit> --no-write), shown under this run's as a step between")
    args = parser.parse_args()
    rows = []
    with MachineLoad() as load:
        for title_set in SETS:
            for count in map(int, args.sizes.split(",")):
                rows.append(build_row(count, title_set))
                print(rows[-1], file=sys.stderr, flush=True)
    lines = [
        f"{machine_line()}; {load.describe()}. Code: {args.label}. One child process per "
        "build; wall and CPU time (user + system) and peak resident memory of the child. "
        "Baseline: the same titles into a plain table with an FTS5 trigram index over title "
        "and author. Two sets of titles: as generated, where titles and authors repeat, and "
        "made distinct by a subtitle from a second draw (nine titles in ten differ), as in a "
        "real library. "
        "Target: 200,000 titles in <= 30 s and <= 60 MB.",
        "",
        "| titles | different titles | wall | CPU | peak memory | file | baseline wall | "
        "baseline CPU | baseline memory | baseline file | wall ratio | CPU ratio | "
        "memory ratio | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    if args.earlier is not None:
        lines += ["", "The same benchmark on an earlier commit, run in the same session "
                  "(its --earlier run):", "", *saved_lines(args.earlier)]
    publish(SECTION, lines, before=args.before, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
