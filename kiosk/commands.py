"""Running the operating system's tools (systemctl, sfdisk, resize2fs, ip ...) behind one seam.

`kiosk boot-setup` and the doctor's system checks take a `Runner`, so tests can feed recorded
output where the real tool cannot run (no systemd as PID 1 on a developer's machine) and run the
real one where it can. A missing tool or a timeout is an answer (exit status 127 or 124 with
the reason in stderr), never an exception.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

DEFAULT_TIMEOUT_S = 60.0
NOT_FOUND = 127
TIMED_OUT = 124


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def why(self) -> str:
        """The tool's own complaint, one line, for a message."""
        text = (self.stderr or self.stdout).strip()
        return text.splitlines()[-1] if text else f"exit status {self.returncode}"


class Runner(Protocol):
    def __call__(self, argv: Sequence[str], *, input: str | None = None) -> CommandResult: ...


def run(argv: Sequence[str], *, input: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S) -> CommandResult:
    """`argv` with no shell (`input` on its stdin), its output as text; never raises for a
    tool that fails."""
    try:
        done = subprocess.run(list(argv), input=input, capture_output=True, text=True,
                              errors="replace", timeout=timeout_s, check=False,
                              stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        return CommandResult(NOT_FOUND, stderr=f"{argv[0]}: not installed")
    except subprocess.TimeoutExpired:
        return CommandResult(TIMED_OUT, stderr=f"{argv[0]}: no answer in {timeout_s:g} s")
    except OSError as e:  # EACCES also when a folder on $PATH is closed and the tool missing
        return CommandResult(NOT_FOUND, stderr=f"{argv[0]}: cannot run it ({e.strerror}): "
                                               "is it installed?")
    return CommandResult(done.returncode, done.stdout, done.stderr)


def parse_properties(text: str) -> dict[str, str]:
    """`systemctl show -p A,B` output (`A=value` lines) as a dict."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return found
