"""Journal append against a plain SQLite INSERT of the same rows with the same durability.

The baseline is the floor the journal can reach: the same row content (read back from the
journal's own rows: times, boot id, hashes, detail, chain) inserted into a plain table in a file
of its own, WAL, `synchronous=FULL`, one transaction per row, with nothing computed. Both are
timed in the same run, in alternating rounds (journal first in odd rounds, plain first in even
ones) after warm-up rounds that are thrown away, so a change in the machine's load meets both.

Also counted, exactly: WAL pages written per row (frames added to an emptied WAL over a run
without checkpoint, tests/wal_pages.py), for the journal, the plain insert, and what each of
the journal's schema objects adds to a plain table, measured one at a time.

Fair both ways: the bench checks that the two connections have the same durability settings
(journal mode, synchronous, autocheckpoint, page size) and prints them, and the plain insert is
the same BEGIN IMMEDIATE, INSERT, COMMIT as the journal's. (One statement in autocommit is
quicker, by the same 2 µs warm and 4-5 µs of CPU fsynced for the plain INSERT and for the
journal's own: taken by the journal alone it would be this bench's unfairness, taken by both it
moves no ratio; the journal keeps the transaction an intent needs anyway.) Each side's caller
only picks its prepared arguments (the plain insert's row, the journal's item and detail), and
the journal's CPU time counts the rest of its caller's work.

`--json FILE` saves one run's figures. `--report OLD.json... --vs NEW.json...` measures nothing:
it writes the section from saved runs, the old code's and the new, which were run alternately
(old, new, old, new: a change of the machine's load meets both), with every pair beside the
medians. Beside the median over the rounds, the ratio over the whole timed run: the few rounds
that hold a checkpoint (and the journal's look at its file after one) count there. The figures
before issue 20 are quoted from RESULTS.md (`BEFORE_ISSUE_20`).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.measure import (  # noqa: E402
    MachineLoad,
    Timing,
    machine_line,
    ratio_text,
    scratch_folder,
    timed,
)
from bench.results import write_section  # noqa: E402
from kiosk.journal import Journal, schema  # noqa: E402
from tests import wal_pages  # noqa: E402

TITLE = "Journal append (bench/journal_append.py)"
START = "cd48fad"  # the commit the old runs (--report) measured
TARGET_RATE = 0.9  # journal rows/s over plain rows/s, at least
TARGET_PAGES = 1.5  # WAL pages per journal row, at most
CARD = "23520001234566"
COLUMNS = (*schema.FIELDS, "chain")
PLAIN_TABLE = """CREATE TABLE plain (
    seq INTEGER PRIMARY KEY, time_utc TEXT NOT NULL, boot_id TEXT NOT NULL,
    clock_synced INTEGER, kind TEXT NOT NULL, outcome TEXT NOT NULL, item TEXT, title TEXT,
    patron_hash TEXT, detail TEXT, chain TEXT NOT NULL)"""
PLAIN_INSERT = (f"INSERT INTO plain ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(COLUMNS))})")
# What the journal's file has beyond a plain table, each added alone to the plain table.
EXTRAS = {
    "auto_vacuum = INCREMENTAL (prune gives space back)": ("PRAGMA auto_vacuum = INCREMENTAL",),
    "triggers refusing UPDATE and DELETE": (
        "CREATE TRIGGER plain_no_update BEFORE UPDATE ON plain "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END",
        "CREATE TRIGGER plain_no_delete BEFORE DELETE ON plain "
        "BEGIN SELECT RAISE(ABORT, 'append-only'); END"),
    "index on time_utc (version 2; dropped in 3)": (
        "CREATE INDEX plain_time ON plain (time_utc)",),
}


# What RESULTS.md said before issue 20 (commit 2cccc4f's section, "before" column): quoted.
BEFORE_ISSUE_20 = {
    "rate_ratio": 0.48, "rate_ratio_low": 0.42, "rate_ratio_high": 1.29, "cpu_ratio": 0.35,
    "journal_rows_s": 2775, "journal_wall_us": 360, "journal_cpu_us": 240,
    "plain_rows_s": 5893, "plain_wall_us": 170, "plain_cpu_us": 83,
    "pages_journal": 2.41, "pages_plain": 1.16, "pages_intent_pair": 3.31,
    "load": "machine 38% busy across 2 cores during the 3 s run, load average 2.22 at its end",
}
# The settings that decide how much a commit costs: the same on both connections, or no race.
DURABILITY = ("journal_mode", "synchronous", "wal_autocheckpoint", "page_size", "locking_mode")


def durability(db: sqlite3.Connection) -> dict[str, object]:
    return {name: db.execute(f"PRAGMA {name}").fetchone()[0] for name in DURABILITY}


# A checkout's arguments, made before the clock runs: the plain insert is handed its rows ready
# made, so the journal's caller is too (a kiosk has the scanned item and the core's detail).
ITEMS = [f"3352{n:010d}" for n in range(1000)]
DETAILS = [{"seconds": n % 300, "due": "2026-12-28"} for n in range(1000)]


def checkout(journal: Journal, n: int) -> int:
    """A row as a checkout writes it (the same as tests/test_journal_append.py)."""
    return journal.append("checkout", "ok", item=ITEMS[n % 1000], title="红楼梦（脂评汇校本）",
                          patron=CARD, detail=DETAILS[n % 1000])


def plain_file(path: Path, extra: tuple[str, ...] = ()) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    for statement in extra:
        if statement.startswith("PRAGMA"):
            db.execute(statement)  # before the table: it is fixed once one exists
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute(PLAIN_TABLE)
    for statement in extra:
        if not statement.startswith("PRAGMA"):
            db.execute(statement)
    return db


class Plain:
    """Inserts the journal's rows, as they are, one fsynced transaction each."""

    def __init__(self, db: sqlite3.Connection, rows: list[tuple]) -> None:
        self.db, self.rows, self.seq = db, rows, 0

    def insert(self) -> None:
        row = self.rows[self.seq % len(self.rows)]
        self.seq += 1
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(PLAIN_INSERT, (self.seq, *row[1:]))
        self.db.execute("COMMIT")


def pages_per_row(path: Path, write: Callable[[int], object], rows: int) -> float:
    wal_pages.empty_wal(path)
    for n in range(rows):
        write(n)
    return wal_pages.frames(path) / rows


def journal_rows(path: Path) -> list[tuple]:
    db = sqlite3.connect(path)
    try:
        return db.execute(f"SELECT {', '.join(COLUMNS)} FROM entries ORDER BY seq").fetchall()
    finally:
        db.close()


def measure(work: Path, rounds: int, warmup: int, batch: int) -> dict:
    journal = Journal.open(work / "journal.sqlite3", work / "patron.key")
    for n in range(batch):
        checkout(journal, n)
    rows = journal_rows(journal.path)
    plain = Plain(plain_file(work / "plain.sqlite3"), rows)
    figures: dict = {"durability": durability(journal._db)}
    if durability(plain.db) != figures["durability"]:
        raise SystemExit(f"unfair: journal {figures['durability']}, plain {durability(plain.db)}")

    # Pages first, on files of the same few rows (and again below, after the timed rounds).
    n_rows = 200
    figures["pages_journal"] = pages_per_row(journal.path, lambda n: checkout(journal, n), n_rows)
    figures["pages_plain"] = pages_per_row(work / "plain.sqlite3", lambda _n: plain.insert(),
                                           n_rows)

    def journal_batch() -> None:
        for n in range(batch):
            checkout(journal, n)

    def plain_batch() -> None:
        for _ in range(batch):
            plain.insert()

    timings: dict[str, list[Timing]] = {"journal": [], "plain": []}
    with MachineLoad() as load:
        for round_no in range(warmup + rounds):
            order = [("journal", journal_batch), ("plain", plain_batch)]
            if round_no % 2:
                order.reverse()
            for name, call in order:
                timing = timed(call)
                if round_no >= warmup:
                    timings[name].append(timing)
    # The same work warm: without fsync the process never sleeps between rows (not a
    # durability anyone gets; only to show how much of the extra is cold caches).
    for db in (journal._db, plain.db):
        db.execute("PRAGMA synchronous = OFF")
    warm: dict[str, list[Timing]] = {"journal": [], "plain": []}
    for round_no in range(warmup + rounds // 2):
        order = [("journal", journal_batch), ("plain", plain_batch)]
        for name, call in order[::-1] if round_no % 2 else order:
            timing = timed(call)
            if round_no >= warmup:
                warm[name].append(timing)
    for name, spent in warm.items():
        figures[f"warm_{name}_cpu_us"] = statistics.median(t.cpu_s for t in spent) / batch * 1e6
    journal.close()
    plain.db.close()

    pairs = list(zip(timings["journal"], timings["plain"]))
    figures.update({
        "batch": batch, "rounds": rounds, "warmup": warmup, "load": load.describe(),
        "busy": load.busy,
        # rows/s ratio = plain time / journal time, per round, then the median of the rounds
        "rate_ratio": statistics.median(p.wall_s / j.wall_s for j, p in pairs),
        "rate_ratio_low": min(p.wall_s / j.wall_s for j, p in pairs),
        "rate_ratio_high": max(p.wall_s / j.wall_s for j, p in pairs),
        "cpu_ratio": statistics.median(p.cpu_s / j.cpu_s for j, p in pairs),
        # Every round's rows over every round's time: the rounds that hold a checkpoint (and
        # the journal's look at its file after one) count, where the median passes them over.
        "rate_ratio_whole": (sum(p.wall_s for _j, p in pairs)
                             / sum(j.wall_s for j, _p in pairs)),
        "cpu_ratio_whole": sum(p.cpu_s for _j, p in pairs) / sum(j.cpu_s for j, _p in pairs),
    })
    for name, spent in timings.items():
        figures[f"{name}_rows_s"] = statistics.median(batch / t.wall_s for t in spent)
        figures[f"{name}_wall_us"] = statistics.median(t.wall_s for t in spent) / batch * 1e6
        figures[f"{name}_cpu_us"] = statistics.median(t.cpu_s for t in spent) / batch * 1e6

    # What each schema object adds to the plain table, alone.
    extras = {}
    for n, (name, statements) in enumerate(EXTRAS.items()):
        path = work / f"extra-{n}.sqlite3"
        extra = Plain(plain_file(path, statements), rows)
        for _ in range(batch):  # past the first pages of a new file, as above
            extra.insert()
        extras[name] = pages_per_row(path, lambda _n, e=extra: e.insert(), n_rows)
        extra.db.close()
    figures["extras"] = extras
    # A checkout's pair: the intent before the ILS call, its outcome after.
    with Journal.open(work / "journal.sqlite3", work / "patron.key") as journal:
        figures["pages_intent_pair"] = pages_per_row(
            journal.path, lambda n: journal.append(
                "checkout", "ok", item=f"3352{n:010d}", title="红楼梦", patron=CARD,
                intent=journal.open_intent("checkout", item=f"3352{n:010d}", patron=CARD)),
            n_rows // 2) / 2
        figures["journal_version"] = journal._db.execute("PRAGMA user_version").fetchone()[0]
    return figures


RATE_TEXT = (
    "Rate: the journal's own work costs {own_us:.0f} µs of CPU a row beyond the plain "
    "insert's: the chain's SHA-256 over the row's JSON (what makes the journal tamper-evident; "
    "the same bytes as every journal before, so old files verify), the card's HMAC (patrons "
    "only as a keyed hash; made once for a run of rows with the same card, as a session's "
    "intents and outcomes are), the detail's JSON, the time, and an epoll_wait(0) over the "
    "kernel's watches on the file, its folders and the mount table "
    "(`kiosk/journal/file_watch.py`): the "
    "stat() of the path that tells a journal deleted, moved, swapped or cut short is made "
    "only after the kernel told of a change (the journal's own checkpoints, every few hundred "
    "rows: the look then keeps the kernel's watches, set again on the same inotify instance), "
    "and on the keeper's check every 10 s. Whether "
    "the head in memory is still the file's is asked inside the INSERT. That work runs in "
    "Python after each fsync has let the caches go cold, where it takes {cold:.1f} times what "
    "it takes warm ({warm_us:.0f} µs a row beyond the plain insert's with synchronous=OFF, "
    "same run). A whole fsynced plain insert takes {plain_wall_us:.0f} µs of wall time here, "
    "so that work weighs; an SD card's fsync takes milliseconds, and the same work would be "
    "a few percent of it. On a loaded machine wall time stretches CPU time (a core must be "
    "won back after each fsync), so the wall ratio sits below the CPU one.")


def combined(runs: list[dict]) -> dict:
    """Several saved runs of one side as one: the median of each figure over the runs; the
    rate's low and high are the lowest and highest run's median."""
    merged = dict(runs[-1])
    for key, value in runs[-1].items():
        if (isinstance(value, float) and key not in ("busy",)
                and all(key in run for run in runs)):
            merged[key] = statistics.median(run[key] for run in runs)
    rates = [run["rate_ratio"] for run in runs]
    merged["rate_ratio_low"], merged["rate_ratio_high"] = min(rates), max(rates)
    merged["spread"] = "the runs' medians" if len(runs) > 1 else "the rounds"
    busy = [run["busy"] for run in runs]
    merged["load"] = (runs[0]["load"] if len(runs) == 1 else
                      f"{len(runs)} runs, the machine {min(busy):.0%} to {max(busy):.0%} busy "
                      "across its cores during them")
    return merged


def lines_for(now: dict, start: dict | None = None, pairs: list[tuple[dict, dict]] = (),
              before: dict = BEFORE_ISSUE_20) -> list[str]:
    sides = [before, *([start] if start else []), now]

    def row(text: Callable[[dict], str]) -> str:
        return " | ".join(text(side) for side in sides)

    def value(key: str, unit: str = "") -> Callable[[dict], str]:
        return lambda f: f"{f[key]:.2f}{unit}"

    def ratio(f: dict) -> str:
        return (f"{ratio_text(f['rate_ratio'], 1.0)} ({f['rate_ratio_low']:.2f}-"
                f"{f['rate_ratio_high']:.2f} over {f.get('spread', 'the rounds')})")

    meets_rate = "meets" if now["rate_ratio"] >= TARGET_RATE else "MISSES"
    meets_pages = "meets" if now["pages_journal"] <= TARGET_PAGES else "MISSES"
    heads = ["before issue 20 (quoted)", *([f"this session's start ({START})"] if start else []),
             "now"]
    settings = ", ".join(f"{k} {v}" for k, v in now["durability"].items())
    lines = [
        f"{machine_line()}; the files on this machine's disk, fsync on every commit. "
        f"{now['rounds']} rounds of {now['batch']} rows each for the journal and for the plain "
        f"insert, alternating, after {now['warmup']} warm-up rounds thrown away; medians over "
        f"the rounds. Both connections: {settings} (checked equal by the bench), one "
        "BEGIN IMMEDIATE, INSERT, COMMIT a row. Before issue 20: schema version 2, the chain "
        "head read for every row; figures quoted from RESULTS.md."
        + (f" Session start and now: {len(pairs)} runs of the bench on each code, run "
           "alternately (old, new, old, new, ...), medians over the runs; every pair is "
           "below." if start else ""),
        "",
        "Load: " + "; ".join(f"{head}: {side['load']}" for head, side in zip(heads, sides))
        + ".",
        "",
        f"| figure | {' | '.join(heads)} | target |",
        "|---|" + "---|" * len(heads) + "---|",
        f"| journal rows/s over plain INSERT rows/s (wall, same run) | {row(ratio)} | "
        f">= {TARGET_RATE}x: {meets_rate} |",
        f"| CPU time: plain over journal (same run) | {row(value('cpu_ratio', 'x'))} | |",
        "| the same over the whole timed run (every round's rows over every round's time: "
        f"checkpoints and the looks after them counted): wall, CPU | {row(_whole)} | |",
        f"| journal: rows/s, wall µs / CPU µs per row | {row(_speed('journal'))} | |",
        f"| plain INSERT: rows/s, wall µs / CPU µs per row | {row(_speed('plain'))} | |",
        "| the journal's own CPU µs a row beyond the plain insert's: fsynced / warm "
        f"(synchronous=OFF) | {row(_own)} | |",
        f"| WAL pages per journal row (200 rows, exact) | {row(value('pages_journal'))} | "
        f"<= {TARGET_PAGES}: {meets_pages} |",
        f"| WAL pages per plain INSERT row | {row(value('pages_plain'))} | |",
        "| WAL pages per row of a checkout's intent and outcome (each) | "
        f"{row(value('pages_intent_pair'))} | |",
    ]
    if pairs:
        lines += [
            "",
            "Each pair, in the order run (ratios are journal over plain in that run; CPU µs is "
            "the journal's own work beyond the plain insert's, a row):",
            "",
            "| pair | start: wall, CPU ratio | now: wall, CPU ratio | whole run, wall: start, "
            "now | start: own CPU µs | now: own CPU µs | machine busy (start, now) |",
            "|---|---|---|---|---|---|---|",
        ]
        for n, (old, new) in enumerate(pairs, 1):
            lines.append(
                f"| {n} | {old['rate_ratio']:.2f}x, {old['cpu_ratio']:.2f}x | "
                f"{new['rate_ratio']:.2f}x, {new['cpu_ratio']:.2f}x | "
                f"{old.get('rate_ratio_whole', 0):.2f}x, {new.get('rate_ratio_whole', 0):.2f}x | "
                f"{old['journal_cpu_us'] - old['plain_cpu_us']:.0f} | "
                f"{new['journal_cpu_us'] - new['plain_cpu_us']:.0f} | "
                f"{old['busy']:.0%}, {new['busy']:.0%} |")
        better = [sum(new.get(key, 0) > old.get(key, 0) for old, new in pairs)
                  for key in ("rate_ratio", "cpu_ratio", "rate_ratio_whole")]
        lines += ["", f"In {better[0]} of {len(pairs)} pairs the new code's wall ratio is the "
                  f"higher, in {better[1]} its CPU ratio, in {better[2]} its whole run's wall "
                  "ratio."]
    lines += [
        "",
        "What each of the journal's schema objects adds, alone, to the plain table (WAL pages "
        f"per row; the plain table writes {now['pages_plain']:.2f}):",
        "",
        "| added to the plain table | WAL pages per row | |",
        "|---|---|---|",
    ]
    kept = {True: "kept", False: "dropped in version 3"}
    for name, pages in now["extras"].items():
        lines.append(f"| {name} | {pages:.2f} | {kept['index' not in name]} |")
    own_us = now["journal_cpu_us"] - now["plain_cpu_us"]
    warm_us = now.get("warm_journal_cpu_us", 0.0) - now.get("warm_plain_cpu_us", 0.0)
    lines += [
        "",
        "The journal writes its table's page, a page more each time a leaf fills (the chain "
        "and patron hash make rows of about 300 bytes: 13 a page) and, with incremental "
        "auto-vacuum, the pointer-map page then. A checkout's intent and outcome each also "
        "write the one-page open_intents table (what lets a restart find unsettled intents "
        "without reading the journal).",
        "",
        *RATE_TEXT.format(own_us=own_us, warm_us=warm_us, cold=own_us / max(warm_us, 0.1),
                          plain_wall_us=now["plain_wall_us"]).split("\n"),
    ]
    return lines


def _whole(f: dict) -> str:
    if "rate_ratio_whole" not in f:
        return "not measured"
    return f"{f['rate_ratio_whole']:.2f}x, {f['cpu_ratio_whole']:.2f}x"


def _own(f: dict) -> str:
    if "warm_journal_cpu_us" not in f:
        return "not measured"
    return (f"{f['journal_cpu_us'] - f['plain_cpu_us']:.0f} / "
            f"{f['warm_journal_cpu_us'] - f['warm_plain_cpu_us']:.1f}")


def _speed(name: str) -> Callable[[dict], str]:
    return lambda f: (f"{f[name + '_rows_s']:,.0f}/s, {f[name + '_wall_us']:.0f} / "
                      f"{f[name + '_cpu_us']:.0f} µs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--batch", type=int, default=200, help="rows a round")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a temp dir)")
    parser.add_argument("--json", type=Path, help="save the figures here")
    parser.add_argument("--report", type=Path, nargs="+",
                        help="saved runs (--json) of the old code: measure nothing, report")
    parser.add_argument("--vs", type=Path, nargs="+", help="with --report: the new code's runs, "
                        "run alternately with the old ones")
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md alone")
    args = parser.parse_args()
    if args.report:
        old, new = ([json.loads(p.read_text(encoding="utf-8")) for p in paths]
                    for paths in (args.report, args.vs or []))
        if len(old) != len(new):
            parser.error("--report and --vs take as many runs each")
        lines = lines_for(combined(new), combined(old), list(zip(old, new)))
    else:
        work = scratch_folder("bench-journal-", args.dir)
        figures = measure(work, args.rounds, args.warmup, args.batch)
        for name in os.listdir(work):
            (work / name).unlink()
        work.rmdir()
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
        lines = lines_for(figures)
    print("\n".join(lines))
    if not args.no_write:
        write_section(TITLE, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
