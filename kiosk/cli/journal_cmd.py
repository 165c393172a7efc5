"""`kiosk journal stats|verify|export`: look into the transaction journal, check it, copy it out."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

from kiosk.cli.common import load_config
from kiosk.errors import KioskError
from kiosk.journal import Journal, JournalStats
from kiosk.journal.export import local_time, write_csv, write_jsonl
from kiosk.journal.store import utc_text


def register(subparsers, common) -> None:
    p = subparsers.add_parser("journal", parents=[common], help="inspect, verify, export the journal")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    where = _where_options()

    stats = actions.add_parser("stats", parents=[common, where], help="rows, upload backlog, counts")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.set_defaults(func=run_stats)

    check = actions.add_parser("verify", parents=[common, where],
                               help="check integrity, sequence and hash chain; exit 1 on a fault")
    check.set_defaults(func=run_verify)

    export = actions.add_parser("export", parents=[common, where], help="rows as CSV or JSON lines")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="csv opens in Excel and WPS with Chinese intact (default)")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    export.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="first day, local time")
    export.add_argument("--until", type=_day, metavar="YYYY-MM-DD", help="last day, included")
    export.add_argument("--patron-hash", action="store_true",
                        help="include the keyed patron hashes (left out by default)")
    export.set_defaults(func=run_export)


def _where_options():
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--file", type=Path, metavar="JOURNAL",
                       help="a journal file, e.g. one copied from a kiosk (default: the config's)")
    where.add_argument("--demo", action="store_true", help="the demo's journal")
    return where


def _open(args) -> Journal:
    path = args.file or load_config(args, demo=args.demo).journal_path
    return Journal.open_existing(path)


def run_stats(args) -> int:
    with _open(args) as journal:
        stats = journal.stats()
    if args.json:
        record = asdict(stats)
        record["counts"] = [{"kind": k, "outcome": o, "rows": n} for (k, o), n in stats.counts.items()]
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(format_stats(stats))
    return 0


def format_stats(stats: JournalStats) -> str:
    lines = [f"journal      {stats.path} ({stats.size_bytes / 1024:.0f} KB)"]
    if not stats.rows:
        return "\n".join(lines + ["rows         0"])
    lines += [
        f"rows         {stats.rows} (seq {stats.first_seq} to {stats.last_seq})",
        f"written      {local_time(stats.first_time)} to {local_time(stats.last_time)} local time",
        f"not uploaded {stats.unsent}",
        f"clock unset  {stats.clock_unsynced} rows written before the clock was synchronised",
        f"boots        {stats.boots}",
        "kind         outcome      rows",
    ]
    lines += [f"{kind:<12} {outcome:<12} {n}" for (kind, outcome), n in stats.counts.items()]
    return "\n".join(lines)


def run_verify(args) -> int:
    with _open(args) as journal:
        problems = journal.verify()
        rows = journal.stats().rows if not problems else None
    if problems:
        print(f"journal {journal.path}: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"journal {journal.path}: sound ({rows} rows)")
    return 0


def run_export(args) -> int:
    since = _utc(args.since) if args.since else None
    until = _utc(args.until + timedelta(days=1)) if args.until else None
    writer = write_csv if args.format == "csv" else write_jsonl
    with _open(args) as journal:
        rows = journal.rows(since_utc=since, until_utc=until)
        if args.output is None:
            out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
            n = writer(rows, out, patron_hash=args.patron_hash)
            out.flush()
            out.detach()
        else:
            n = _write_file(args.output, lambda f: writer(rows, f, patron_hash=args.patron_hash))
    print(f"exported {n} rows" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return 0


def _write_file(path: Path, write) -> int:
    # Written beside the target and renamed: an interrupted export never leaves half a file.
    temp = path.with_name(f".{path.name}.partial")
    try:
        with open(temp, "w", encoding="utf-8", newline="") as f:
            n = write(f)
        os.replace(temp, path)
    except OSError as e:
        temp.unlink(missing_ok=True)
        raise KioskError(f"{path}: cannot write the export: {e.strerror}") from None
    return n


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-24") from None


def _utc(day: date) -> str:
    """Local midnight starting `day`, as the journal's UTC time text."""
    return utc_text(datetime.combine(day, time()).astimezone())
