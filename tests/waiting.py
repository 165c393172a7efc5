"""Waiting in tests for something to have happened: a condition polled until a deadline, with a
message saying what never came, never a fixed sleep that a loaded machine outlasts."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import pytest


def wait_until(condition: Callable[[], object], timeout: float, what: str, *,
               process: subprocess.Popen | None = None, every: float = 0.05) -> None:
    """Return once `condition()` is true; fail the test with "no {what} within {timeout} s" at
    the deadline, or at once when `process` (the program under test) has stopped meanwhile."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process stopped (exit {process.returncode}) while waiting for "
                        f"{what}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s")
        time.sleep(every)
