"""Keeps bench/RESULTS.md: each benchmark rewrites its own section and leaves the others."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = ("# Benchmark results\n\nLatest figures of each benchmark in bench/, written by the "
          "benchmark itself.\n")


def write_section(title: str, lines: list[str], path: Path = RESULTS) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"## {title}\n\nRun {stamp}.\n\n" + "\n".join(lines) + "\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def saved_lines(saved: Path) -> list[str]:
    """A run saved by a benchmark (--no-write), for another run's section to show. Table rows
    printed as the run went, before its section's first line of text, are left off: the
    section holds them again under the table's header."""
    lines = saved.read_text(encoding="utf-8").strip().splitlines()
    return lines[next((i for i, line in enumerate(lines) if not line.startswith("|")), 0):]


def before_lines(saved: Path) -> list[str]:
    """A run on the code before issue 20 (--label before --no-write), shown beside this run's."""
    return ["", "Before issue 20, the same benchmark on the old code (commit e56332a):", "",
            *saved_lines(saved)]


def publish(title: str, lines: list[str], *, before: Path | None = None,
            write: bool = True) -> None:
    """Prints a run's section, with the saved run of the old code (`before`) under it, and
    writes it to RESULTS.md unless told not to (a run saved to be shown beside another)."""
    if before is not None:
        lines = [*lines, *before_lines(before)]
    if write:
        write_section(title, lines)
    print("\n".join(lines))
