"""`rauc install` with its output read line by line as it comes, for the progress bar.

RAUC's command line prints `<percent>% <what>` lines while the service installs (`%3i%% %s`
when stdout is not a terminal); any other line is passed on as a message. The connection's
thread; the tool runs through a LineRunner, so tests stand in `rauc` at the lowest layer.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from kiosk.commands import NOT_FOUND, TIMED_OUT, CommandResult
from kiosk.media.protocol import Progress
from kiosk.update import rauc

INSTALL_TIMEOUT_S = 3600.0  # a 1 GB slot written to a slow SD card
_PROGRESS = re.compile(r"\s*(\d{1,3})%\s+(.*)")


class LineRunner(Protocol):
    def __call__(self, argv: Sequence[str], on_line: Callable[[str], None]) -> CommandResult: ...


def run_lines(argv: Sequence[str], on_line: Callable[[str], None], *,
              timeout_s: float = INSTALL_TIMEOUT_S) -> CommandResult:
    """`argv` with stdout and stderr merged, each line handed to `on_line` as it arrives."""
    try:
        process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace",
                                   bufsize=1)
    except OSError as e:
        return CommandResult(NOT_FOUND, stderr=f"{argv[0]}: cannot run it ({e.strerror})")
    output = process.stdout
    if output is None:  # stdout=PIPE gives one; typeshed cannot know
        raise RuntimeError(f"{argv[0]}: started without a pipe for its output")
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        process.kill()
    timer = threading.Timer(timeout_s, expire)
    timer.start()
    lines = []
    try:
        for line in output:
            lines.append(line)
            on_line(line.rstrip("\n"))
        returncode = process.wait()
    finally:
        timer.cancel()
        output.close()
    if expired.is_set():
        return CommandResult(TIMED_OUT, "".join(lines), f"{argv[0]}: no end in {timeout_s:g} s")
    return CommandResult(returncode, "".join(lines))


def progress(line: str) -> Progress | None:
    """A line of `rauc install` as progress; None for an empty line."""
    if not line.strip():
        return None
    match = _PROGRESS.fullmatch(line)
    if match and int(match[1]) <= 100:
        return Progress(int(match[1]), match[2].strip())
    return Progress(None, line.strip())


def install(path: str, runner: LineRunner, on_progress: Callable[[Progress], None]
            ) -> CommandResult:
    def each(line: str) -> None:
        step = progress(line)
        if step is not None:
            on_progress(step)
    return runner(list(rauc.install_argv(path)), each)
