"""`kiosk journal stats|verify|export|prune`: look into the transaction journal, check it, copy it
out, prune what was uploaded long ago. Each says so when the data partition is full."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import monotonic

from kiosk import sqlite_faults, system
from kiosk.cli import arg_types
from kiosk.cli.common import load_config
from kiosk.cli.words import _, pad, width
from kiosk.errors import KioskError
from kiosk.journal import Journal, JournalStats, reserve
from kiosk.journal.export import local_time, write_csv, write_jsonl
from kiosk.journal.store import utc_text
from kiosk.sizes import size_text


def register(subparsers, common) -> None:
    p = subparsers.add_parser("journal", parents=[common],
                              help=_("inspect, verify, export, prune the journal"))
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    where = _where_options()

    stats = actions.add_parser("stats", parents=[common, where],
                               help=_("rows, upload backlog, counts"))
    stats.add_argument("--json", action="store_true", help=_("machine-readable output"))
    stats.set_defaults(func=run_stats)

    check = actions.add_parser("verify", parents=[common, where],
                               help=_("check integrity, sequence and hash chain; exit 1 on a "
                                      "fault"))
    check.set_defaults(func=run_verify)

    export = actions.add_parser("export", parents=[common, where],
                                help=_("rows as CSV or JSON lines"))
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help=_("csv opens in Excel and WPS with Chinese intact (default)"))
    export.add_argument("--output", "-o", type=arg_types.path, metavar="FILE",
                        help=_("file to write (default: standard output)"))
    export.add_argument("--since", type=arg_types.day, metavar="YYYY-MM-DD",
                        help=_("first day, local time"))
    export.add_argument("--until", type=arg_types.day, metavar="YYYY-MM-DD",
                        help=_("last day, included; not before --since"))
    export.add_argument("--patron-hash", action="store_true",
                        help=_("include the keyed patron hashes (left out by default)"))
    export.set_defaults(func=run_export)

    prune = actions.add_parser("prune", parents=[common, where],
                               help=_("remove rows already uploaded and older than keep_days"))
    prune.add_argument("--keep-days", type=arg_types.whole(0, 36500), metavar="DAYS",
                       help=_("keep rows this many days (default: [journal] keep_days)"))
    prune.set_defaults(func=run_prune)


def _where_options():
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--file", type=arg_types.path, metavar="JOURNAL",
                       help=_("a journal file, e.g. one copied from a kiosk (default: the "
                              "config's)"))
    where.add_argument("--demo", action="store_true", help=_("the demo's journal"))
    return where


def _open(args) -> Journal:
    return Journal.open_existing(_journal_path(args))


def _journal_path(args) -> Path:
    return args.file or load_config(args, demo=args.demo).journal_path


def _data_dir(args) -> Path:
    """Where the reserve is: the config's data folder, or the folder of the file named."""
    return args.file.parent if args.file else load_config(args, demo=args.demo).data_dir


def run_stats(args) -> int:
    with _open(args) as journal:
        stats = journal.stats()
    reserved = reserve.size(_data_dir(args))
    if args.json:
        record = asdict(stats)
        record["counts"] = [{"kind": k, "outcome": o, "rows": n}
                            for (k, o), n in stats.counts.items()]
        record["reserve_bytes"] = reserved
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(format_stats(stats, reserved))
    return 0


def format_stats(stats: JournalStats, reserve_bytes: int = 0) -> str:
    """Label and value a line, the values in one screen column whatever the language."""
    rows: list[tuple[str, str]] = [
        (_("journal"), f"{stats.path} ({stats.size_bytes / 1024:.0f} KB)"),
        (_("space"), _("file {file}, WAL {wal}", file=size_text(stats.file_bytes),
                       wal=size_text(stats.wal_bytes)))]
    if stats.free_bytes is not None and stats.total_bytes is not None:  # known together
        free, total = size_text(stats.free_bytes), size_text(stats.total_bytes)
        rows.append((_("partition"),
                     _("{free} free of {total}, and a {reserve} reserve the kiosk releases when "
                       "it fills up", free=free, total=total, reserve=size_text(reserve_bytes))
                     if reserve_bytes else
                     _("{free} free of {total}, no reserve", free=free, total=total)))
    if stats.pruned_upto:
        rows.append((_("pruned"), _pruned(stats)))
    if stats.open_intents:
        rows.append((_("open intents"),
                     _("{count} transactions the ILS was asked about and whose outcome is not "
                       "journaled yet", count=stats.open_intents)))
    if not stats.rows:
        rows.append((_("rows"), "0"))
    else:
        rows += [
            (_("rows"), _("{rows} (seq {first} to {last})", rows=stats.rows,
                          first=stats.first_seq, last=stats.last_seq)),
            (_("written"), _("{first} to {last} local time", first=local_time(stats.first_time),
                             last=local_time(stats.last_time))),
            (_("not uploaded"), str(stats.unsent)),
            (_("clock unset"), _("{count} rows written before the clock was synchronised",
                                 count=stats.clock_unsynced)),
            (_("boots"), str(stats.boots)),
        ]
    columns = max(13, *(width(label) + 1 for label, _value in rows))
    lines = [pad(label, columns) + value for label, value in rows]
    if stats.rows:
        lines.append(f"{pad(_('kind'), 12)} {pad(_('outcome'), 12)} {_('rows')}")
        lines += [f"{kind:<12} {outcome:<12} {n}" for (kind, outcome), n in stats.counts.items()]
    warning = _space_warning(Path(stats.path))
    return "\n".join(lines + ([warning] if warning else []))


def _pruned(stats: JournalStats) -> str:
    return _("rows 1 to {upto} pruned (uploaded, older than {days} days)",
             upto=stats.pruned_upto, days=stats.pruned_keep_days)


def _space_warning(path: Path) -> str | None:
    """A line saying the data partition is full or read-only, and what to do; None if neither."""
    disk = system.disk_state(path.parent)
    if disk is None:
        return None
    if disk.read_only:
        return _("warning: ") + sqlite_faults.describe("read_only", path, "journal", "mounted so")
    if disk.full:
        return _("warning: ") + sqlite_faults.describe(
            "full", path, "journal", f"less than {system.FULL_BYTES >> 20} MB")
    return None


def run_verify(args) -> int:
    with _open(args) as journal:
        problems = journal.verify()
        stats = journal.stats() if not problems else None
    warning = _space_warning(journal.path)
    if problems or stats is None:  # stats are taken only of a sound journal
        print(_("journal {path}: {count} problem(s)", path=journal.path, count=len(problems)))
        for problem in problems:
            print(f"  {problem}")
        if warning:
            print(warning)
        return 1
    print(_("journal {path}: sound ({rows} rows)", path=journal.path, rows=stats.rows))
    if stats.pruned_upto:
        print(f"  {_pruned(stats)}")
    if warning:
        print(warning)
    return 0


def run_prune(args) -> int:
    keep_days = args.keep_days
    if keep_days is None:
        keep_days = load_config(args, demo=args.demo).journal.keep_days
    if keep_days < 0:
        raise KioskError(_("--keep-days must be 0 (keep every row) or more"))
    started = monotonic()
    with _open(args) as journal:
        result = journal.prune(keep_days)
    seconds = monotonic() - started
    if not keep_days:
        print(_("journal {path}: keep_days is 0, every row is kept", path=journal.path))
    elif result.rows:
        print(_("journal {path}: {rows} rows pruned in {seconds} s; rows 1 to {upto} are now "
                "pruned (uploaded, older than {days} days); {freed} given back: {reclaim}",
                path=journal.path, rows=result.rows, seconds=f"{seconds:.1f}", upto=result.upto,
                days=keep_days, freed=size_text(result.freed_bytes), reclaim=result.reclaim))
    else:
        print(_("journal {path}: nothing to prune (rows are pruned once uploaded and older than "
                "{days} days)", path=journal.path, days=keep_days))
    return 0


def run_export(args) -> int:
    if args.since and args.until and args.until < args.since:
        # Refused rather than "exported 0 rows": a reversed range is a typing slip.
        raise KioskError(_("--until {until} is before --since {since}: nothing could be "
                           "exported; swap them", until=args.until, since=args.since))
    if args.output is not None and args.output.is_dir():
        raise KioskError(_("{path} is a folder: --output names the file to write",
                           path=args.output))
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
    print(_("exported {rows} rows to {file}", rows=n, file=args.output) if args.output
          else _("exported {rows} rows", rows=n), file=sys.stderr)
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
        raise KioskError(_("{path}: cannot write the export: {why}", path=path,
                           why=e.strerror)) from None
    return n


def _utc(day: date) -> str:
    """Local midnight starting `day`, as the journal's UTC time text."""
    return utc_text(datetime.combine(day, time()).astimezone())
