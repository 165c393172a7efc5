"""E-book search latency per keystroke, by kind of query, against a plain SQLite FTS5 trigram
index over the same titles built in the same run.

Builds catalogues of 2,000, 20,000, 200,000 and (`--sizes` with 1000000) a million titles
(Chinese titles and authors from the sample's word lists, so pinyin matters), then types each
query one key at a time and times every `Catalogue.search` call, as the search screen makes
one per key, and the screen's whole work per key (the search, then the count it shows when the
page is full, "找到 134 本" or "找到超过 1000 本"). The baseline does the same job for the text
typed: a page of 60 titles, every column, made into `Title`s; it answers three characters or
more from its index and scans for fewer, as a plain trigram index must, and finds nothing for
pinyin, initials or ISBNs, so each kind says how many titles each found. A catalogue whose
titles have a licence window each (no counts kept in the file) is timed too (`--windows`).
Targets: p95 per keystroke <= 10 ms at 200,000 titles and <= 30 ms at a million for every kind
of query; at 20,000 a median no slower than the FTS5 trigram baseline.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from dataclasses import replace
from pathlib import Path
from statistics import median
from typing import Callable, Iterable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import (  # noqa: E402
    MachineLoad,
    Timing,
    cpus,
    machine_line,
    ratio_text,
    scratch_folder,
    time_calls,
    walls,
)
from bench.results import publish  # noqa: E402
from content.title import Title  # noqa: E402
from tests.search_cases import generated  # noqa: E402

TODAY = "2026-11-25"
SECTION = "E-book search (bench/search.py)"
TARGET_P95_MS = {200_000: 10.0, 1_000_000: 30.0}


def typed(query: str) -> list[str]:
    return [query[:end] for end in range(1, len(query) + 1)]


# What each keystroke sends, by kind: letters are typed a key at a time; Chinese characters
# come whole from an input method.
QUERIES: dict[str, list[str]] = {
    "characters, 1-2": [*typed("红楼"), *typed("小熊"), "的", "王", "故事", "梦"],
    "characters, 3+": ["红楼梦", "小熊的", "中老年人", "养生之道"],
    "pinyin": [*typed("honglou"), *typed("xiyouji"), *typed("zhonglaonianren")],
    "initials": [*typed("hlm"), *typed("jkys"), *typed("xxd")],
    "mixed (红l)": ["红l", "红lm", "小x", "小xd", "中l"],
    "ISBN": [*typed("9787020002207"), *typed("978-7-5")],
    "author": ["曹雪芹", "王伟", *typed("caoxueqin"), *typed("wangwei"), *typed("wq")],
}


def titles(count: int) -> Iterator[Title]:
    """Chinese titles and authors from the sample's word lists, all licensed today."""
    return generated(count, seed=5)


# The columns of a `Title`, in its fields' order: what a page of results reads.
COLUMNS = ("id, isbn, title, author, category, summary, cover, file, size, sha256, format, "
           "valid_from, valid_until, added")
# How the code under test makes a `Title` of a row (the code before issue 20 had no from_row):
# the baseline makes its page of titles the same way, so both do the same output work.
make_title: Callable[[tuple], Title] = getattr(Title, "from_row", None) or (lambda r: Title(*r))


class TrigramBaseline:
    """The same titles in a plain table with an FTS5 trigram index over title and author,
    asked what the search screen asks: the text typed, a page of 60 titles (every column,
    made into `Title`s). Three characters or more come from the index; fewer are scanned
    for (LIKE), as a plain trigram index must. It matches text only: pinyin, initials and
    ISBNs find nothing here (the "found" column says how many each found)."""

    def __init__(self, path: Path, count: int,
                 made: Callable[[int], Iterable[Title]] | None = None) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.executescript(
            "CREATE TABLE books (id TEXT PRIMARY KEY, isbn, title, author, category, summary, "
            "cover, file, size, sha256, format, valid_from, valid_until, added);"
            "CREATE VIRTUAL TABLE fts USING fts5(title, author, content='books', "
            "tokenize='trigram');")
        with self.db:
            for t in (made or titles)(count):
                rowid = self.db.execute(
                    "INSERT INTO books VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (t.id, t.isbn, t.title, t.author, t.category, t.summary, t.cover, t.file,
                     t.size, t.sha256, t.format, t.valid_from, t.valid_until, t.added)).lastrowid
                self.db.execute("INSERT INTO fts (rowid, title, author) VALUES (?, ?, ?)",
                                (rowid, t.title, t.author))
        columns = ", ".join(f"b.{c}" for c in COLUMNS.split(", "))
        self._indexed = (f"SELECT {columns} FROM fts JOIN books b ON b.rowid = fts.rowid "
                         "WHERE fts MATCH ? LIMIT 60")
        self._scanned = f"SELECT {COLUMNS} FROM books WHERE title LIKE ? OR author LIKE ? LIMIT 60"

    def open_immutable(self) -> None:
        """Opened again as `Catalogue.open` opens its file (immutable: no file lock or change
        check per statement), for a like-for-like figure beside the plain one."""
        self.db.close()
        self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro&immutable=1",
                                  uri=True)

    def search(self, query: str) -> list[Title]:
        if len(query) >= 3:
            rows = self.db.execute(self._indexed, ('"' + query.replace('"', '""') + '"',))
        else:
            like = f"%{query}%"
            rows = self.db.execute(self._scanned, (like, like))
        return [make_title(row) for row in rows]


def per_key(call: Callable[[str], object], rounds: int) -> dict[str, list[list[Timing]]]:
    """Each kind's keystrokes, each timed `rounds` times after a warm-up."""
    return {kind: [time_calls(lambda q=query: call(q), rounds, warmup=1) for query in queries]
            for kind, queries in QUERIES.items()}


def flat(timings: list[list[Timing]]) -> list[Timing]:
    return [t for key in timings for t in key]


def found_per_key(search: Callable[[str], list]) -> dict[str, list[int]]:
    return {kind: [len(search(query)) for query in queries] for kind, queries in QUERIES.items()}


def ms(value_s: float) -> str:
    return f"{value_s * 1000:.2f}"


def screen_work(catalogue) -> Callable[[str], None]:
    """kiosk/ui/screens/ebook_search.py's work per key: the page, then (when it is full) the
    count it shows, capped (`found`) where the code has it."""
    count = getattr(catalogue, "found", None) or catalogue.search_count

    def work(query: str) -> None:
        if len(catalogue.search(query, TODAY)) >= 60:
            count(query, TODAY)
    return work


def verdict(target: float | None, *p95s: float) -> str:
    if target is None:
        return ""
    return " / ".join("meets" if p95 * 1000 <= target else "MISSES" for p95 in p95s)


def measure(size: int, rounds: int) -> tuple[list[str], dict]:
    from content.catalogue import Catalogue, write_catalogue
    folder = scratch_folder("bench-search-")
    started = time.perf_counter()
    write_catalogue(folder / "catalogue.sqlite3", titles(size))
    built = time.perf_counter() - started
    started = time.perf_counter()
    baseline = TrigramBaseline(folder / "baseline.sqlite3", size)
    baseline_built = time.perf_counter() - started
    catalogue = Catalogue.open(folder)
    ours = per_key(lambda q: catalogue.search(q, TODAY), rounds)
    screen = per_key(screen_work(catalogue), rounds)
    base = per_key(baseline.search, rounds)
    ours_found = found_per_key(lambda q: catalogue.search(q, TODAY))
    base_found = found_per_key(baseline.search)
    baseline.open_immutable()
    immutable = per_key(baseline.search, rounds)
    catalogue.close()
    baseline.db.close()
    rows = []
    target = TARGET_P95_MS.get(size)
    for kind in QUERIES:
        mine, theirs, whole = flat(ours[kind]), flat(base[kind]), flat(screen[kind])
        wall, cpu, bwall = walls(mine), cpus(mine), walls(theirs)
        rows.append(f"| {size:,} | {kind} | {ms(wall.median)} | {ms(wall.p95)} | {ms(cpu.p95)} | "
                    f"{ms(bwall.median)} | {ratio_text(wall.median, bwall.median)} | "
                    f"{median(ours_found[kind]):g} / {median(base_found[kind]):g} | "
                    f"{ms(walls(whole).p95)} | {ms(cpus(whole).p95)} | "
                    f"{verdict(target, wall.p95, walls(whole).p95)} |")
    every = [t for kind in QUERIES for t in flat(ours[kind])]
    every_base = [t for kind in QUERIES for t in flat(base[kind])]
    # The keystrokes the trigram index answers with titles too: the like-for-like comparison.
    both = [(mine, theirs, same) for kind in QUERIES for mine, theirs, same, n in zip(
        ours[kind], base[kind], immutable[kind], base_found[kind]) if n]
    keys = sum(len(queries) for queries in QUERIES.values())
    for label, mine, theirs in (
            ("**every keystroke**", every, every_base),
            (f"**keystrokes both find titles for** ({len(both)} of {keys})",
             [t for m, _b, _s in both for t in m], [t for _m, b, _s in both for t in b]),
            ("**the same keystrokes, the trigram file opened immutable as ours is**",
             [t for m, _b, _s in both for t in m], [t for _m, _b, s in both for t in s])):
        rows.append(f"| {size:,} | {label} | {ms(walls(mine).median)} | {ms(walls(mine).p95)} | "
                    f"{ms(cpus(mine).p95)} | {ms(walls(theirs).median)} | "
                    f"{ratio_text(walls(mine).median, walls(theirs).median)} (CPU "
                    f"{ratio_text(cpus(mine).median, cpus(theirs).median)}) | | | | |")
    summary = {"size": size, "built_s": built, "baseline_built_s": baseline_built,
               "file_mb": (folder / "catalogue.sqlite3").stat().st_size / 1e6,
               "baseline_mb": (folder / "baseline.sqlite3").stat().st_size / 1e6}
    return rows, summary


def windowed(count: int) -> Iterator[Title]:
    """The same titles, each in a licence window of its own (as the sample's are): no counts
    kept in the file, so the screen counts even one letter at search time."""
    for n, t in enumerate(titles(count)):
        yield replace(t, valid_from=f"2020-01-{1 + n % 28:02d}",
                      valid_until=f"2027-{1 + n % 12:02d}-{1 + n % 27:02d}")


def measure_windows(size: int, rounds: int) -> list[str]:
    """The screen's work per key on a catalogue whose titles have a licence window each."""
    from content.catalogue import Catalogue, write_catalogue
    folder = scratch_folder("bench-search-windows-")
    write_catalogue(folder / "catalogue.sqlite3", windowed(size))
    catalogue = Catalogue.open(folder)
    ours = per_key(lambda q: catalogue.search(q, TODAY), rounds)
    screen = per_key(screen_work(catalogue), rounds)
    catalogue.close()
    target = TARGET_P95_MS.get(size)
    return [f"| {size:,} | {kind} | {ms(walls(flat(ours[kind])).p95)} | "
            f"{ms(walls(flat(screen[kind])).p95)} | {ms(cpus(flat(screen[kind])).p95)} | "
            f"{verdict(target, walls(flat(ours[kind])).p95, walls(flat(screen[kind])).p95)} |"
            for kind in QUERIES]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,20000,200000,1000000")
    parser.add_argument("--windows", default="200000",
                        help="sizes also timed with a licence window per title ('' for none)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="now", help="which code ran: 'before' or 'now'")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--before", type=Path, help="the output of a run on the code before "
                        "issue 20 (--label before --no-write), shown beside this run's")
    args = parser.parse_args()
    rows, builds, windows = [], [], []
    with MachineLoad() as load:
        for size in map(int, args.sizes.split(",")):
            size_rows, summary = measure(size, args.rounds)
            rows += size_rows
            builds.append(
                f"| {size:,} | {summary['built_s']:.1f} s | {summary['file_mb']:.1f} MB | "
                f"{summary['baseline_built_s']:.1f} s | {summary['baseline_mb']:.1f} MB |")
            print("\n".join(size_rows + builds[-1:]), file=sys.stderr, flush=True)
        for size in (int(s) for s in args.windows.split(",") if s):
            windows += measure_windows(size, args.rounds)
            print("\n".join(windows), file=sys.stderr, flush=True)
    lines = [
        f"{machine_line()}; {load.describe()}. Code: {args.label}. Each keystroke's query "
        f"timed {args.rounds} times after a warm-up; per kind of query: median and p95 wall "
        "time, p95 CPU time; the same keystrokes on a plain FTS5 trigram index over the same "
        "titles, asked for the same page (60 titles, every column, made into `Title`s): its "
        "median, and ours as a ratio of it; how many titles each found per key (median; the "
        "trigram index finds nothing for pinyin, initials and ISBNs); and the p95 of the "
        "screen's whole work per key (search, then the count it shows when the page of 60 is "
        "full: `found`, capped at 1,000, where the code has it, else `search_count`). "
        "Targets: p95 <= 10 ms at 200,000 titles, <= 30 ms at 1,000,000 (search / screen); "
        "at 20,000 the median no slower than the baseline.",
        "",
        "| titles | query | median ms | p95 ms | p95 CPU ms | FTS5 trigram median ms | "
        "ratio (median) | found per key: ours / trigram | screen p95 ms | screen p95 CPU ms | "
        "p95 target (search / screen) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]
    if windows:
        lines += [
            "", "The same titles, each in a licence window of its own (as the sample's): the "
            "file keeps no counts, so the screen counts every query at search time.", "",
            "| titles | query | search p95 ms | screen p95 ms | screen p95 CPU ms | "
            "p95 target (search / screen) |",
            "|---|---|---|---|---|---|",
            *windows]
    lines += [
        "",
        "| titles | catalogue written in | file | FTS5 trigram table written in | its file |",
        "|---|---|---|---|---|",
        *builds,
    ]
    publish(SECTION, lines, before=args.before, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
