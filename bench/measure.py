"""How every benchmark measures: warm-up runs discarded, CPU time beside wall time, the machine's
load during the run, and each figure given as a ratio against a baseline timed in the same run.

A shared machine's load moves wall times by 2x from one run to the next; a ratio against a
baseline measured minutes apart under the same load does not move with it, and CPU time shows
whether a slow wall time was our work or a wait for a core.
"""

from __future__ import annotations

import atexit
import os
import platform
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float  # this process's user + system time (time.process_time)


def timed(call: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu)


def time_calls(call: Callable[[], object], runs: int, warmup: int = 1) -> list[Timing]:
    """`runs` timings of `call`, after `warmup` calls whose times are thrown away (first calls
    pay for imports, cold caches and SQLite's page cache, which a running kiosk has paid)."""
    for _ in range(warmup):
        call()
    return [timed(call) for _ in range(runs)]


@dataclass(frozen=True)
class Spread:
    median: float
    p95: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float]) -> "Spread":
        ordered = sorted(values)
        if not ordered:
            raise ValueError("no values to summarise")
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        return cls(statistics.median(ordered), p95, ordered[0], ordered[-1], len(ordered))


def walls(timings: Iterable[Timing]) -> Spread:
    return Spread.of(t.wall_s for t in timings)


def cpus(timings: Iterable[Timing]) -> Spread:
    return Spread.of(t.cpu_s for t in timings)


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else float("inf")


def ratio_text(value: float, baseline: float) -> str:
    """'1.8x' (value over baseline), with as many digits as the size needs."""
    r = ratio(value, baseline)
    return f"{r:.2f}x" if r < 10 else f"{r:.0f}x"


def scratch_folder(prefix: str, parent: str | Path | None = None) -> Path:
    """A new folder for a run's files, removed when the benchmark's process ends: a run's
    catalogues and batches take gigabytes, and runs left behind filled the disk."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def resident_mb(pid: int | str = "self") -> float:
    """A process's resident memory now (VmRSS), in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(f) for f in stat.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


class MachineLoad:
    """The whole machine's CPU use while the `with` block ran, ours included.

    `busy` is the fraction of all cores' time spent working; `load` the 1-minute load average
    at the end. A figure taken while busy is well above our own share shared its cores.
    """

    def __init__(self) -> None:
        self.busy = 0.0
        self.load = 0.0
        self.seconds = 0.0
        self._start: tuple[int, int] = (0, 0)
        self._started = 0.0

    def __enter__(self) -> "MachineLoad":
        self._start = _cpu_ticks()
        self._started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = _cpu_ticks()
        spent = total - self._start[1]
        self.busy = (busy - self._start[0]) / spent if spent else 0.0
        self.load = os.getloadavg()[0]
        self.seconds = time.monotonic() - self._started

    def describe(self) -> str:
        return (f"machine {self.busy:.0%} busy across {os.cpu_count()} cores during the "
                f"{self.seconds:.0f} s run, load average {self.load:.2f} at its end")


def machine_line() -> str:
    return (f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")
