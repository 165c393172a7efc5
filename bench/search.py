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
The generator's titles repeat (2,124 different at 200,000): `--titles distinct` times
bench/catalogue_build.py's `distinct_titles` instead (each given a subtitle, "A：B"), written
as a part of the section under the run kept there.
Targets: p95 per keystroke <= 10 ms at 200,000 titles and <= 30 ms at a million for every kind
of query; at 20,000 a median no slower than the FTS5 trigram baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import re
import shutil
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
from bench.results import RESULTS, publish, saved_lines  # noqa: E402
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

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        columns = ", ".join(f"b.{c}" for c in COLUMNS.split(", "))
        self._indexed = (f"SELECT {columns} FROM fts JOIN books b ON b.rowid = fts.rowid "
                         "WHERE fts MATCH ? LIMIT 60")
        self._scanned = f"SELECT {COLUMNS} FROM books WHERE title LIKE ? OR author LIKE ? LIMIT 60"

    @staticmethod
    def build(path: Path, count: int,
              made: Callable[[int], Iterable[Title]] | None = None) -> float:
        """Writes the file; the seconds it took."""
        started = time.perf_counter()
        db = sqlite3.connect(path)
        db.executescript(
            "CREATE TABLE books (id TEXT PRIMARY KEY, isbn, title, author, category, summary, "
            "cover, file, size, sha256, format, valid_from, valid_until, added);"
            "CREATE VIRTUAL TABLE fts USING fts5(title, author, content='books', "
            "tokenize='trigram');")
        with db:
            for t in (made or titles)(count):
                rowid = db.execute(
                    "INSERT INTO books VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (t.id, t.isbn, t.title, t.author, t.category, t.summary, t.cover, t.file,
                     t.size, t.sha256, t.format, t.valid_from, t.valid_until, t.added)).lastrowid
                db.execute("INSERT INTO fts (rowid, title, author) VALUES (?, ?, ?)",
                           (rowid, t.title, t.author))
        db.close()
        return time.perf_counter() - started

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


# What a same-job baseline matches on besides title and author: what our catalogue matches a
# query on, as columns of plain text (a trigram finds any part of each).
MATCHED = ("title", "author", "isbn13", "isbn10", "title_spelled", "title_initials",
           "author_spelled", "author_initials")
ISBN_TYPED = re.compile(r"^[0-9][0-9xX\- ]*$")  # as our search tells an ISBN from other text


class SameJobBaseline:
    """A plain FTS5 trigram index doing our search's job: the same titles, with a column for
    everything our search matches on (title, author, the ISBN's 13 digits and its ISBN-10, the
    full pinyin and the initials of title and author, read by the project's own pinyin reading
    when the file is written), asked what the screen asks: the text typed (lower case; an
    ISBN's digits without hyphens, as ours takes it), a page of 60 titles (every column, made
    into `Title`s). Three characters or more come from the index (MATCH over every column);
    fewer are scanned for (LIKE on every column), as a plain trigram index must. It has no
    relevance tiers: its page is in the order of the rows (the titles' numbers), and a trigram
    matches anywhere in a spelling ("ongl"), not only from a syllable's start; "红l" (characters
    then initials) is text no column holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        columns = ", ".join(f"b.{c}" for c in COLUMNS.split(", "))
        self._indexed = (f"SELECT {columns} FROM fts JOIN books b ON b.rowid = fts.rowid "
                         "WHERE fts MATCH ? LIMIT 60")
        self._scanned = (f"SELECT {COLUMNS} FROM books WHERE "
                         + " OR ".join(f"{c} LIKE ?1" for c in MATCHED) + " LIMIT 60")

    @staticmethod
    def build(path: Path, count: int,
              made: Callable[[int], Iterable[Title]] | None = None) -> float:
        """Writes the file; the seconds it took, less the time spent reading pinyin (done
        once per distinct text, as our build does; our build's time includes its own)."""
        from content.catalogue_parts import isbn_10
        from content.catalogue_terms import digits
        from content.pinyin import read
        readings: dict[str, tuple[str, str]] = {}
        reading_s = 0.0

        def pinyin(text: str) -> tuple[str, str]:
            nonlocal reading_s
            known = readings.get(text)
            if known is None:
                started = time.perf_counter()
                forms = read(text)
                known = readings[text] = (forms.spelled, forms.initials)
                reading_s += time.perf_counter() - started
            return known

        started = time.perf_counter()
        db = sqlite3.connect(path)
        db.executescript(
            f"CREATE TABLE books ({COLUMNS}, {', '.join(MATCHED[2:])});"
            f"CREATE VIRTUAL TABLE fts USING fts5({', '.join(MATCHED)}, content='books', "
            "tokenize='trigram');")
        insert = (f"INSERT INTO books ({COLUMNS}, {', '.join(MATCHED[2:])}) "
                  f"VALUES ({', '.join('?' * (14 + len(MATCHED) - 2))})")
        with db:
            for t in (made or titles)(count):
                isbn = digits(t.isbn)
                matched = (isbn, isbn_10(isbn), *pinyin(t.title), *pinyin(t.author))
                rowid = db.execute(insert, (
                    t.id, t.isbn, t.title, t.author, t.category, t.summary, t.cover, t.file,
                    t.size, t.sha256, t.format, t.valid_from, t.valid_until, t.added,
                    *matched)).lastrowid
                db.execute(f"INSERT INTO fts (rowid, {', '.join(MATCHED)}) VALUES "
                           f"({', '.join('?' * (1 + len(MATCHED)))})",
                           (rowid, t.title, t.author, *matched))
        db.close()
        return time.perf_counter() - started - reading_s

    def search(self, query: str) -> list[Title]:
        query = query.strip()
        text = re.sub(r"[^0-9xX]", "", query).lower() if ISBN_TYPED.match(query) \
            else query.lower()
        if len(text) >= 3:
            rows = self.db.execute(self._indexed, ('"' + text.replace('"', '""') + '"',))
        else:
            rows = self.db.execute(self._scanned, (f"%{text}%",))
        return [make_title(row) for row in rows]


def per_key(call: Callable[[str], object], rounds: int) -> dict[str, list[list[Timing]]]:
    """Each kind's keystrokes, each timed `rounds` times after a warm-up."""
    return {kind: [time_calls(lambda q=query: call(q), rounds, warmup=1) for query in queries]
            for kind, queries in QUERIES.items()}


def per_key_together(calls: dict[str, Callable[[str], object]],
                     rounds: int) -> dict[str, dict[str, list[list[Timing]]]]:
    """`per_key` for several calls at once, taking turns: each key is timed by one call, then
    the next, round after round, so the load of the work sharing the machine falls on them
    alike (timed one after another, minutes apart, their ratios moved by 2x between runs)."""
    timed: dict[str, dict[str, list[list[Timing]]]] = {
        name: {kind: [] for kind in QUERIES} for name in calls}
    for kind, queries in QUERIES.items():
        for query in queries:
            for call in calls.values():
                time_calls(lambda c=call: c(query), 0, warmup=1)
            keyed: dict[str, list[Timing]] = {name: [] for name in calls}
            for _ in range(rounds):
                for name, call in calls.items():
                    keyed[name] += time_calls(lambda c=call: c(query), 1, warmup=0)
            for name, timings in keyed.items():
                timed[name][kind].append(timings)
    return timed


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


def library_work(folder: Path) -> tuple[Callable[[str], None], Callable[[], None]]:
    """The screen's work per key as the app does it, through kiosk/ebooks/library.py (which
    checks at each call whether staff switched versions), on the catalogue in `folder`; and
    what closes it."""
    from kiosk.ebooks.library import EbookLibrary
    root = scratch_folder("bench-search-library-")
    (root / "current").symlink_to(folder.resolve())
    library = EbookLibrary(root, today=lambda: TODAY)

    def work(query: str) -> None:
        if len(library.search(query)) >= 60:
            library.found(query, 1000)

    def close() -> None:
        if library._catalogue is not None:
            library._catalogue.close()
    return work, close


def verdict(target: float | None, *p95s: float) -> str:
    if target is None:
        return ""
    return " / ".join("meets" if p95 * 1000 <= target else "MISSES" for p95 in p95s)


# What the files kept between runs (--keep) depend on: a change to any of these writes them anew.
BUILT_BY = ("content/catalogue_write.py", "content/catalogue_parts.py",
            "content/catalogue_terms.py", "content/pinyin.py", "content/fold.py",
            "content/sample_words.py", "tests/search_cases.py")


def _built_by(made_by: str = "") -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(made_by.encode())
    for name in BUILT_BY:
        digest.update((root / name).read_bytes())
    for code in (TrigramBaseline.build, SameJobBaseline.build, windowed):
        digest.update(inspect.getsource(code).encode())
    return digest.hexdigest()[:12]


def built(keep: Path | None, label: str, size: int, write: Callable[[Path], float],
          made_by: str = "") -> tuple[Path, float, bool]:
    """The file `write` makes for `size` titles: made now in a scratch folder, or with `keep`
    made once in a folder there and used again while the code that writes it (and `made_by`,
    the source of a title set other than the generator's) is unchanged (the million-title
    files take minutes on a shared machine). Its path, the seconds writing it took (when it
    was made), and whether it was made in this run."""
    name = "catalogue.sqlite3"  # as Catalogue.open finds it, and so the baselines' too
    if keep is None:
        path = scratch_folder(f"bench-search-{label}-") / name
        return path, write(path), True
    folder = keep / f"{label}-{size}-{_built_by(made_by)}"
    if (folder / "built.json").exists():
        return folder / name, json.loads((folder / "built.json").read_text())["seconds"], False
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    seconds = write(partial / name)
    (partial / "built.json").write_text(json.dumps({"seconds": seconds}))
    partial.rename(folder)
    return folder / name, seconds, True


def _write_ours(made: Callable[[int], Iterable[Title]], size: int) -> Callable[[Path], float]:
    def write(path: Path) -> float:
        from content.catalogue import write_catalogue
        started = time.perf_counter()
        write_catalogue(path, made(size))
        return time.perf_counter() - started
    return write


Pages = list[tuple[int, int, int, bool]]  # per key: found by ours, by it, on both, the same


def pages_compared(ours: Callable[[str], list[Title]],
                   theirs: Callable[[str], list[Title]]) -> dict[str, Pages]:
    """Per kind, per key: titles found by each, titles on both pages, the same page in the
    same order."""
    compared: dict[str, Pages] = {}
    for kind, queries in QUERIES.items():
        compared[kind] = []
        for query in queries:
            mine, other = [t.id for t in ours(query)], [t.id for t in theirs(query)]
            compared[kind].append((len(mine), len(other), len(set(mine) & set(other)),
                                   mine == other))
    return compared


def compared_row(size: int, label: str, mine: list[Timing], theirs: list[Timing],
                 pages: Pages) -> str:
    found = (f"{median(p[0] for p in pages):g} / {median(p[1] for p in pages):g} | "
             f"{median(p[2] for p in pages):g} | {sum(p[3] for p in pages)} of {len(pages)}"
             if pages else "| |")
    return (f"| {size:,} | {label} | {ms(walls(mine).median)} | {ms(cpus(mine).median)} | "
            f"{ms(walls(theirs).median)} | {ms(cpus(theirs).median)} | "
            f"{ratio_text(walls(mine).median, walls(theirs).median)} "
            f"(CPU {ratio_text(cpus(mine).median, cpus(theirs).median)}) | {found} |")


def title_set(name: str) -> tuple[Callable[[int], Iterable[Title]], str, str]:
    """A set of bench/catalogue_build.py's TITLE_SETS: what makes its titles, the suffix of its
    kept files' names, and what its kept files depend on besides BUILT_BY."""
    if name == "repeating":
        return titles, "", ""  # the files and names of the runs before the sets
    from bench.catalogue_build import TITLE_SETS  # it imports this module: not at the top
    made = TITLE_SETS[name]
    return made, f"-{name}", inspect.getsource(made)


def different_titles(made: Callable[[int], Iterable[Title]], size: int) -> int:
    return len({t.title for t in made(size)})


def measure(size: int, rounds: int, keep: Path | None,
            set_name: str = "repeating") -> tuple[list[str], list[str], dict]:
    from content.catalogue import Catalogue
    made, suffix, made_by = title_set(set_name)
    ours_path, built_s, fresh = built(keep, f"ours{suffix}", size, _write_ours(made, size),
                                      made_by)
    base_path, baseline_built, base_fresh = built(
        keep, f"trigram{suffix}", size, lambda path: TrigramBaseline.build(path, size, made),
        made_by)
    same_path, same_built, same_fresh = built(
        keep, f"same-job{suffix}", size, lambda path: SameJobBaseline.build(path, size, made),
        made_by)
    baseline = TrigramBaseline(base_path)
    immutable_baseline = TrigramBaseline(base_path)
    immutable_baseline.open_immutable()
    same_job = SameJobBaseline(same_path)
    catalogue = Catalogue.open(ours_path.parent)
    # The screen's work on a connection of its own, as the library's: one a key before it
    # ran the same statements, on the same pages, would be timed warmer than the other.
    screen_catalogue = Catalogue.open(ours_path.parent)
    through, close_library = library_work(ours_path.parent)
    timed = per_key_together({
        "ours": lambda q: catalogue.search(q, TODAY), "screen": screen_work(screen_catalogue),
        "library": through, "trigram": baseline.search, "same job": same_job.search,
        "immutable": immutable_baseline.search}, rounds)
    ours, screen, app = timed["ours"], timed["screen"], timed["library"]
    base, same, immutable = timed["trigram"], timed["same job"], timed["immutable"]
    close_library()
    screen_catalogue.close()
    ours_found = found_per_key(lambda q: catalogue.search(q, TODAY))
    base_found = found_per_key(baseline.search)
    pages = pages_compared(lambda q: catalogue.search(q, TODAY), same_job.search)
    catalogue.close()
    baseline.db.close()
    immutable_baseline.db.close()
    same_job.db.close()
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
    # Ours against the same-job index, per kind, over every keystroke, and over the keys
    # finding at most one title (where a call's fixed cost is all there is).
    fair = [compared_row(size, kind, flat(ours[kind]), flat(same[kind]), pages[kind])
            for kind in QUERIES]
    few = [(m, s, p) for kind in QUERIES for m, s, p in zip(ours[kind], same[kind], pages[kind])
           if p[0] <= 1]
    fair += [compared_row(size, "**every keystroke**", every,
                          [t for kind in QUERIES for t in flat(same[kind])],
                          [p for kind in QUERIES for p in pages[kind]]),
             compared_row(size, f"**keystrokes we find 0-1 titles for** ({len(few)} of {keys})",
                          [t for m, _s, _p in few for t in m], [t for _m, s, _p in few for t in s],
                          [p for _m, _s, p in few])]
    on_catalogue = [t for kind in QUERIES for t in flat(screen[kind])]
    on_library = [t for kind in QUERIES for t in flat(app[kind])]
    summary = {"library": f"| {size:,} | {ms(walls(on_library).median)} | "
                          f"{ms(cpus(on_library).median)} | {ms(walls(on_catalogue).median)} | "
                          f"{ms(cpus(on_catalogue).median)} | "
                          f"{ratio_text(cpus(on_library).median, cpus(on_catalogue).median)} |",
               "size": size, "built_s": built_s, "baseline_built_s": baseline_built,
               "same_built_s": same_built, "earlier": not (fresh and base_fresh and same_fresh),
               "file_mb": ours_path.stat().st_size / 1e6,
               "baseline_mb": base_path.stat().st_size / 1e6,
               "same_mb": same_path.stat().st_size / 1e6}
    return rows, fair, summary


def windowed(count: int) -> Iterator[Title]:
    """The same titles, each in a licence window of its own (as the sample's are): no counts
    kept in the file, so the screen counts even one letter at search time."""
    for n, t in enumerate(titles(count)):
        yield replace(t, valid_from=f"2020-01-{1 + n % 28:02d}",
                      valid_until=f"2027-{1 + n % 12:02d}-{1 + n % 27:02d}")


def measure_windows(size: int, rounds: int, keep: Path | None) -> list[str]:
    """The screen's work per key on a catalogue whose titles have a licence window each."""
    from content.catalogue import Catalogue
    path, _s, _fresh = built(keep, "windows", size, _write_ours(windowed, size))
    catalogue = Catalogue.open(path.parent)
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
    parser.add_argument("--windows", help="sizes also timed with a licence window per title "
                        "('' for none; 200000 with the generator's titles, none with others)")
    parser.add_argument("--titles", choices=("repeating", "distinct"), default="repeating",
                        help="bench/catalogue_build.py's set of titles: as generated (they "
                        "repeat), or made distinct by a subtitle; a distinct run is written as "
                        "a part of the section, under the run kept there")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--label", default="now", help="which code ran: 'before' or 'now'")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--before", type=Path, help="the output of a run on the code before "
                        "issue 20 (--label before --no-write), shown beside this run's")
    parser.add_argument("--earlier", type=Path, help="the output of a run on a later commit "
                        "(--label 'COMMIT ...' --no-write), shown between this run and --before")
    parser.add_argument("--keep", type=Path, help="a folder where the catalogues and baselines "
                        "written are kept and used again by later runs while the code writing "
                        "them is unchanged")
    args = parser.parse_args()
    if args.windows is None:
        args.windows = "200000" if args.titles == "repeating" else ""
    if args.windows and args.titles != "repeating":
        parser.error("--windows times the generator's titles only")
    rows, fair, builds, windows, library = [], [], [], [], []
    cpu_started = time.process_time()
    with MachineLoad() as load:
        for size in map(int, args.sizes.split(",")):
            size_rows, size_fair, summary = measure(size, args.rounds, args.keep, args.titles)
            rows += size_rows
            fair += size_fair
            library.append(summary["library"])
            builds.append(
                f"| {size:,} | {summary['built_s']:.1f} s | {summary['file_mb']:.1f} MB | "
                f"{summary['baseline_built_s']:.1f} s | {summary['baseline_mb']:.1f} MB | "
                f"{summary['same_built_s']:.1f} s | {summary['same_mb']:.1f} MB |"
                f"{' an earlier run' if summary['earlier'] else ''} |")
            print("\n".join(size_rows + size_fair + builds[-1:]), file=sys.stderr, flush=True)
        for size in (int(s) for s in args.windows.split(",") if s):
            windows += measure_windows(size, args.rounds, args.keep)
            print("\n".join(windows), file=sys.stderr, flush=True)
    lines = run_lines(args, load, rows, fair, library, windows, builds)
    if args.titles != "repeating":
        publish(SECTION, distinct_section(args, lines, time.process_time() - cpu_started),
                write=not args.no_write)
        return 0
    publish(SECTION, main_section(lines, args.earlier), before=args.before,
            write=not args.no_write)
    return 0


def run_lines(args: argparse.Namespace, load: MachineLoad, rows: list[str], fair: list[str],
              library: list[str], windows: list[str], builds: list[str]) -> list[str]:
    """A run's text: what was timed and how, and its tables."""
    lines = [
        f"{machine_line()}; {load.describe()}. Code: {args.label}. Each keystroke's query "
        f"timed {args.rounds} times after a warm-up, ours and each baseline taking turns at each "
        "key (the load falls on all alike); per kind of query: median and p95 wall "
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
        "",
        "Ours against a plain FTS5 trigram index doing the same job (the second baseline): "
        "the same titles with a column for everything our search matches on (title, author, "
        "ISBN-13 digits and ISBN-10, the full pinyin and initials of title and author, read "
        "by content/pinyin.py when the file is written), the same page of 60 asked for, three "
        "characters or more by MATCH over every column, fewer by LIKE on every column. Medians "
        "of wall and CPU time, ours as a ratio of it; titles found per key by each (median), "
        "titles on both pages (median), and the keys whose pages are the same titles in the "
        "same order. Its pages differ from ours in order (it has no relevance tiers: its page "
        "is in row order, ours exact, then prefix, then later syllable, then contains, and "
        "pinyin order within) and in what a short query finds (a trigram or LIKE matches "
        "inside a syllable, 'ou' in 'lou'; \"红l\" is text no column holds, so it finds "
        "nothing).",
        "",
        "| titles | query | ours median ms | ours median CPU ms | same-job trigram median ms | "
        "its median CPU ms | ratio (CPU) | found per key: ours / same-job | on both pages | "
        "pages the same |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *fair,
    ]
    lines += [
        "",
        "The screen's work per key (as above) made as the app makes it, through "
        "kiosk/ebooks/library.py, which asks at every call whether staff switched versions, "
        "against the same calls on the `Catalogue` (medians over every keystroke):",
        "",
        "| titles | through the library, ms | its CPU ms | on the catalogue, ms | its CPU ms | "
        "ratio (CPU) |",
        "|---|---|---|---|---|---|",
        *library,
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
        "| titles | catalogue written in | file | FTS5 trigram table written in | its file | "
        "same-job trigram written in (pinyin reading not timed) | its file | written by |",
        "|---|---|---|---|---|---|---|---|",
        *builds,
    ]
    return lines


# A distinct run's part of the section, between these lines (not shown where Markdown is read).
DISTINCT_START = "<!-- bench/search.py --titles distinct: from here -->"
DISTINCT_END = "<!-- bench/search.py --titles distinct: to here -->"
EARLIER = "The same benchmark on the code this round started from, the same files read:"
# What follows the main run in the section: an --earlier run, a run before issue 20.
AFTER_MAIN = (EARLIER, "Before issue 20,")
KEPT = "The tables down to the part with titles made distinct are from the run of"


def section_parts(path: Path = RESULTS) -> tuple[list[str], list[str], list[str]]:
    """The section as `path` holds it, less its heading: the main run and what its stamp says
    (its first line), a distinct run's part (markers included; none if there is none), and
    what follows (earlier runs)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    found = re.search(rf"^## {re.escape(SECTION)}\n\n(Run [^\n]*)\n\n(.*?)(?=^## |\Z)",
                      text, re.S | re.M)
    if found is None:
        return [], [], []
    lines = found.group(2).rstrip("\n").split("\n")
    if DISTINCT_START in lines and DISTINCT_END in lines:
        start, end = lines.index(DISTINCT_START), lines.index(DISTINCT_END) + 1
        head, part, rest = lines[:start], lines[start:end], lines[end:]
    else:
        split = next((n for n, line in enumerate(lines) if line.startswith(AFTER_MAIN)),
                     len(lines))
        head, part, rest = lines[:split], [], lines[split:]
    while head and not head[-1]:
        head.pop()
    while rest and not rest[0]:
        rest.pop(0)
    if head and not head[0].startswith(KEPT):
        head = [f"{KEPT} {found.group(1)[4:].rstrip('.')}, kept as it was.", "", *head]
    return head, part, rest


def main_section(lines: list[str], earlier: Path | None, path: Path = RESULTS) -> list[str]:
    """The section of a run of the generator's titles: its text, then the part of a distinct
    run that `path` holds (kept), then the --earlier run."""
    _head, kept, _rest = section_parts(path)
    lines = [*lines, *([""] + kept if kept else [])]
    if earlier is not None:
        lines += ["", EARLIER, "", *saved_lines(earlier)]
    return lines


def distinct_section(args: argparse.Namespace, lines: list[str], cpu_s: float,
                     path: Path = RESULTS) -> list[str]:
    """The section with this distinct run's part in it, under the main run `path` holds, kept
    as it was, and what follows that."""
    made, _suffix, _made_by = title_set(args.titles)
    sizes = [int(size) for size in args.sizes.split(",")]
    counts = "; ".join(f"{size:,} titles: {different_titles(made, size):,} different (the "
                       f"generator's own {different_titles(titles, size):,})" for size in sizes)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    part = [DISTINCT_START, "", f"### Titles made distinct (bench/search.py --titles "
            f"{args.titles}, run {stamp})", "",
            "The same benchmark with bench/catalogue_build.py's `distinct_titles`: each of the "
            "generator's titles given a subtitle from a second draw (\"A：B\"), for titles "
            "that differ as a real library's do, where the generator's repeat. Two draws "
            f"still meet again now and then: {counts}. Terms shared by fewer titles, and "
            "longer titles, change what each index range holds. The benchmark's process used "
            f"{cpu_s:.0f} s of CPU time in all (building the files it did not find kept, and "
            "timing).", "", *lines, "", DISTINCT_END]
    head, _old, rest = section_parts(path)
    return [*head, "", *part, *([""] + rest if rest else [])]


if __name__ == "__main__":
    sys.exit(main())
