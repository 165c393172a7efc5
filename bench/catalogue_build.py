"""Writing the e-book catalogue: time, CPU and peak memory of `write_catalogue` for 20,000,
200,000 and (`--sizes`) a million titles, against the same titles written into a plain table
with an FTS5 trigram index in the same run.

Each build runs in a child process of its own (peak memory is the child's, from os.wait4's
resource usage: its ru_maxrss, the same figure RUSAGE_CHILDREN gives), so one build's
memory never hides in another's. Titles come from bench/search.py's generator, in two sets:
as generated, where titles and authors repeat (the word lists make a few thousand different
titles), and made distinct by a subtitle from a second draw (178,793 different titles of
200,000), nearer a real library, where reading each distinct text once saves little.

The parent writes each set once into a file of rows, and both children stream their titles
from it, as a catalogue of an older format is built again from its rows: each build's time
holds the reading of its input, not the generator's drawing of words (5 s of 200,000
distinct titles, more than the baseline's whole build), and a third child reading the file
alone shows that share.
Targets: 200,000 titles in <= 30 s and <= 60 MB.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields, replace
from operator import attrgetter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import MachineLoad, machine_line, ratio_text  # noqa: E402
from bench.results import publish, saved_lines  # noqa: E402
from bench.search import generated, make_title, titles  # noqa: E402
from content.title import Title  # noqa: E402

SECTION = "E-book catalogue build (bench/catalogue_build.py)"
ROOT = Path(__file__).resolve().parent.parent
TARGET = {200_000: (30.0, 60.0)}  # seconds, MB
CHILD = {
    "catalogue": ("from content.catalogue import write_catalogue\n"
                  "write_catalogue(OUT, made(COUNT))\n"),
    "baseline": ("from bench.search import TrigramBaseline\n"
                 "TrigramBaseline.build(OUT, COUNT, made)\n"),
    "input": "for _title in made(COUNT):\n    pass\nOUT.touch()\n",  # the reading alone
}
SETS = ("repeating", "distinct")


def distinct_titles(count: int) -> Iterator[Title]:
    """The generator's titles, each given a subtitle from a second draw: "A：B"."""
    for title, second in zip(titles(count), generated(count, seed=6)):
        yield replace(title, title=f"{title.title}：{second.title}")


TITLE_SETS: dict[str, Callable[[int], Iterable[Title]]] = {
    "repeating": titles, "distinct": distinct_titles}
_TITLE_FIELDS = tuple(field.name for field in fields(Title))
_TITLE_COLUMNS = ", ".join(_TITLE_FIELDS)
_title_row = attrgetter(*_TITLE_FIELDS)


def write_titles(path: Path, made: Iterable[Title]) -> None:
    """The titles as rows of a file, in order: what each child builds from."""
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(f"CREATE TABLE titles ({_TITLE_COLUMNS})")
            db.executemany(f"INSERT INTO titles VALUES ({', '.join('?' * len(_TITLE_FIELDS))})",
                           map(_title_row, made))
    finally:
        db.close()


def titles_from(path: Path) -> Callable[[int], Iterator[Title]]:
    """The first `count` titles of a file of write_titles, streamed through a small cache
    (read once, in order: SQLite's default 2 MB would only add to the child's memory)."""
    def made(count: int) -> Iterator[Title]:
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA cache_size = -256")
            yield from map(make_title, db.execute(
                f"SELECT {_TITLE_COLUMNS} FROM titles ORDER BY rowid LIMIT ?", (count,)))
        finally:
            db.close()
    return made


def _different_titles(titles_file: Path) -> int:
    db = sqlite3.connect(titles_file)
    try:
        return db.execute("SELECT count(DISTINCT title) FROM titles").fetchone()[0]
    finally:
        db.close()


def build(kind: str, count: int, titles_file: Path,
          out: Path) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MB, file bytes) of one build in a child process, of the
    first `count` titles of `titles_file` (write_titles)."""
    script = ("import sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[3])\n"
              "from bench.catalogue_build import titles_from\n"
              "OUT, COUNT = Path(sys.argv[1]), int(sys.argv[2])\n"
              "made = titles_from(Path(sys.argv[4]))\n" + CHILD[kind])
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", script, str(out), str(count), str(ROOT),
                              str(titles_file)], cwd=ROOT)
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
        titles_file = folder / "titles.sqlite3"
        write_titles(titles_file, TITLE_SETS[title_set](count))
        different = _different_titles(titles_file)
        read = build("input", count, titles_file, folder / "input.done")
        base = build("baseline", count, titles_file, folder / "baseline.sqlite3")
        ours = build("catalogue", count, titles_file, folder / "catalogue.sqlite3")
    finally:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    target = TARGET.get(count)
    verdict = "" if target is None else (
        "meets" if ours[0] <= target[0] and ours[2] <= target[1] else "MISSES")
    return (f"| {count:,} | {different:,} ({title_set}) | {read[0]:.1f} s | "
            f"{ours[0]:.1f} s | {ours[1]:.1f} s | "
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
    parser.add_argument("--earlier", type=Path, action="append", default=[],
                        help="the output of a run on an earlier commit (--label <commit> "
                        "--no-write), shown under this run's as a step between; may be given "
                        "more than once")
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
        "real library. Each child streams the titles from one file of rows, written once "
        "before the timed children; 'reading them alone' is a child that only reads them, "
        "a share of both builds' time. "
        "Target: 200,000 titles in <= 30 s and <= 60 MB.",
        "",
        "| titles | different titles | reading them alone | wall | CPU | peak memory | file | "
        "baseline wall | "
        "baseline CPU | baseline memory | baseline file | wall ratio | CPU ratio | "
        "memory ratio | target |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    for earlier in args.earlier:
        lines += ["", "The same benchmark on an earlier commit, run in the same session "
                  "(its --earlier run):", "", *saved_lines(earlier)]
    publish(SECTION, lines, before=args.before, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
