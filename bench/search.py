"""E-book search latency per keystroke, by kind of query, against a plain SQLite FTS5 trigram
index over the same titles built in the same run.

Builds catalogues of 2,000, 20,000, 200,000 and (`--sizes` with 1000000) a million titles
(Chinese titles and authors from the sample's word lists, so pinyin matters), then types each
query one key at a time and times every `Catalogue.search` call, as the search screen makes
one per key, and the screen's whole work per key (the search, then `search_count` when the
page is full, for its "找到 134 本"). Targets: p95 per keystroke
<= 10 ms at 200,000 titles and <= 30 ms at a million for every kind of query; at 20,000 a
median no slower than the FTS5 trigram baseline (which answers three characters or more from
its index and scans for fewer, as a plain trigram index does).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import MachineLoad, Spread, Timing, machine_line, ratio_text, time_calls  # noqa: E402
from bench.results import before_lines, write_section  # noqa: E402
from content import sample_words as words  # noqa: E402
from content.title import Title  # noqa: E402

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


def titles(count: int, seed: int = 5) -> Iterator[Title]:
    rng = random.Random(seed)
    classics = [(t, a) for t, a, _s in words.CLASSICS]
    for n in range(count):
        if n < len(classics):
            name, author = classics[n]
            category = "classics"
        else:
            category = rng.choice([k for k in words.PATTERNS if k != "classics"])
            _share, patterns, slots = words.PATTERNS[category]
            name = rng.choice(patterns).format(**{s: rng.choice(c) for s, c in slots.items()})
            author = rng.choice(words.SURNAMES) + rng.choice(words.GIVEN)
        isbn = "9787" + "".join(str(rng.randrange(10)) for _ in range(9))
        yield Title(f"{n + 1:06d}", isbn, name, author, category, "", f"covers/{n}.jpg",
                    f"books/{n}.epub", 1000, "0" * 64, "epub", "2020-01-01", "2030-12-31",
                    "2026-11")


class TrigramBaseline:
    """The same titles in a plain table with an FTS5 trigram index over title and author."""

    def __init__(self, path: Path, count: int) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            "CREATE TABLE books (id TEXT PRIMARY KEY, isbn, title, author, category, summary, "
            "cover, file, size, sha256, format, valid_from, valid_until, added);"
            "CREATE VIRTUAL TABLE fts USING fts5(title, author, content='books', "
            "tokenize='trigram');")
        with self.db:
            for t in titles(count):
                rowid = self.db.execute(
                    "INSERT INTO books VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (t.id, t.isbn, t.title, t.author, t.category, t.summary, t.cover, t.file,
                     t.size, t.sha256, t.format, t.valid_from, t.valid_until, t.added)).lastrowid
                self.db.execute("INSERT INTO fts (rowid, title, author) VALUES (?, ?, ?)",
                                (rowid, t.title, t.author))

    def search(self, query: str) -> list:
        if len(query) >= 3:
            return self.db.execute(
                "SELECT b.* FROM fts JOIN books b ON b.rowid = fts.rowid WHERE fts MATCH ? "
                "LIMIT 60", ('"' + query.replace('"', '""') + '"',)).fetchall()
        like = f"%{query}%"
        return self.db.execute("SELECT * FROM books WHERE title LIKE ? OR author LIKE ? "
                               "LIMIT 60", (like, like)).fetchall()


def per_key(call: Callable[[str], object], rounds: int) -> dict[str, list[Timing]]:
    return {kind: [t for query in queries
                   for t in time_calls(lambda q=query: call(q), rounds, warmup=1)]
            for kind, queries in QUERIES.items()}


def ms(value_s: float) -> str:
    return f"{value_s * 1000:.2f}"


def measure(size: int, rounds: int) -> tuple[list[str], dict]:
    from content.catalogue import Catalogue, write_catalogue
    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    started = time.perf_counter()
    write_catalogue(folder / "catalogue.sqlite3", titles(size))
    built = time.perf_counter() - started
    started = time.perf_counter()
    baseline = TrigramBaseline(folder / "baseline.sqlite3", size)
    baseline_built = time.perf_counter() - started
    catalogue = Catalogue.open(folder)
    ours = per_key(lambda q: catalogue.search(q, TODAY), rounds)
    def as_the_screen(query: str) -> None:  # kiosk/ui/screens/ebook_search.py: counted when full
        if len(catalogue.search(query, TODAY)) >= 60:
            catalogue.search_count(query, TODAY)

    counts = per_key(as_the_screen, rounds)
    base = per_key(baseline.search, rounds)
    catalogue.close()
    baseline.db.close()
    file_mb = (folder / "catalogue.sqlite3").stat().st_size / 1e6
    base_mb = (folder / "baseline.sqlite3").stat().st_size / 1e6
    rows = []
    for kind in QUERIES:
        wall, cpu = Spread.of(t.wall_s for t in ours[kind]), Spread.of(t.cpu_s for t in ours[kind])
        bwall = Spread.of(t.wall_s for t in base[kind])
        cwall = Spread.of(t.wall_s for t in counts[kind])
        target = TARGET_P95_MS.get(size)
        verdict = "" if target is None else (
            ("meets" if wall.p95 * 1000 <= target else "MISSES") + " / " +
            ("meets" if cwall.p95 * 1000 <= target else "MISSES"))
        rows.append(f"| {size:,} | {kind} | {ms(wall.median)} | {ms(wall.p95)} | "
                    f"{ms(cpu.p95)} | {ms(bwall.median)} | {ratio_text(wall.median, bwall.median)}"
                    f" | {ms(cwall.p95)} | {verdict} |")
    every = [t for kind in QUERIES for t in ours[kind]]
    every_base = [t for kind in QUERIES for t in base[kind]]
    med, bmed = Spread.of(t.wall_s for t in every).median, Spread.of(
        t.wall_s for t in every_base).median
    cmed, bcmed = Spread.of(t.cpu_s for t in every).median, Spread.of(
        t.cpu_s for t in every_base).median
    rows.append(f"| {size:,} | **every keystroke** | {ms(med)} | "
                f"{ms(Spread.of(t.wall_s for t in every).p95)} | "
                f"{ms(Spread.of(t.cpu_s for t in every).p95)} | {ms(bmed)} | "
                f"{ratio_text(med, bmed)} (CPU {ratio_text(cmed, bcmed)}) | | |")
    summary = {"size": size, "built_s": built, "baseline_built_s": baseline_built,
               "file_mb": file_mb, "baseline_mb": base_mb}
    return rows, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="2000,20000,200000,1000000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="now", help="which code ran: 'before' or 'now'")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--before", type=Path, help="the output of a run on the code before "
                        "issue 20 (--label before --no-write), shown beside this run's")
    args = parser.parse_args()
    rows, builds = [], []
    with MachineLoad() as load:
        for size in map(int, args.sizes.split(",")):
            size_rows, summary = measure(size, args.rounds)
            rows += size_rows
            builds.append(
                f"| {size:,} | {summary['built_s']:.1f} s | {summary['file_mb']:.1f} MB | "
                f"{summary['baseline_built_s']:.1f} s | {summary['baseline_mb']:.1f} MB |")
            print("\n".join(size_rows + builds[-1:]), flush=True)
    lines = [
        f"{machine_line()}; {load.describe()}. Code: {args.label}. Each keystroke's query "
        f"timed {args.rounds} times after a warm-up; per kind of query: median and p95 wall "
        "time, p95 CPU time, the same keystrokes on a plain FTS5 trigram index over the same "
        "titles (median, and our median as a ratio of it), and the p95 of the screen's whole "
        "work per key (search, then `search_count` when the page of 60 is full). Targets: "
        "p95 <= 10 ms at 200,000 titles, <= 30 ms at 1,000,000 (search / screen); at 20,000 "
        "every keystroke's median no slower than the baseline.",
        "",
        "| titles | query | median ms | p95 ms | p95 CPU ms | FTS5 trigram median ms | "
        "ratio (median) | screen p95 ms | p95 target (search / screen) |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "| titles | catalogue written in | file | FTS5 trigram table written in | its file |",
        "|---|---|---|---|---|",
        *builds,
    ]
    if args.before:
        lines += before_lines(args.before)
    if not args.no_write:
        write_section(SECTION, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
