"""How long each phase of the system test took: recorded by `phase()`, printed at the end of
the run (tests/system/conftest.py) and written to artifacts/i13/system-test-timings.txt."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

TIMINGS: dict[str, float] = {}


@contextmanager
def phase(name: str):
    start = time.monotonic()
    try:
        yield
    finally:
        TIMINGS[name] = time.monotonic() - start


def lines() -> list[str]:
    return [f"{name:<60} {seconds:7.1f} s" for name, seconds in TIMINGS.items()]


def save(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines()) + "\n")
