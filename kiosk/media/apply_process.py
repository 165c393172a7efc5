"""Applying an e-book batch in a process of its own, for the patron app: the check of its
signature loads cryptography, and writing its catalogue fills SQLite's caches, which the app
would otherwise hold for the rest of the day. The app's media worker thread starts the child,
relays its progress and waits for its answer, while the connection to the media helper (and
with it the stick's mount) stays open.

    python -m kiosk.media.apply_process CATALOGUE_DIR PUBLIC_KEY BATCH

The child runs `kiosk.media.batch_apply.apply_from_stick` and writes one JSON object a line on
its standard output: {"progress": {...}} for each whole percent read, then {"applied": {...}}
or {"refused": {...}}. Its log goes where the app's does (standard error is shared).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from content.errors import BatchProblem
from content.store import ApplyReport
from kiosk import own_process
from kiosk.media.batch_apply import BatchApplied, BatchRefused, BatchTarget, apply_from_stick
from kiosk.media.protocol import Progress

log = logging.getLogger(__name__)


def apply_elsewhere(target: BatchTarget, path: str, on_progress: Callable[[Progress], None]
                    ) -> BatchApplied | BatchRefused:
    """What `apply_from_stick` answers, worked out in a child process. Never raises."""
    try:
        child = subprocess.Popen(
            own_process.command(__name__, str(target.catalogue_dir), str(target.public_key),
                                path),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, encoding="utf-8",
            env=own_process.environment())
    except OSError as e:
        log.error("cannot start the process that applies e-book batches: %s", e)
        return BatchRefused(None, f"cannot start the apply: {e.strerror or e}")
    answer: BatchApplied | BatchRefused | None = None
    assert child.stdout is not None
    with child:
        for line in child.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                log.warning("the apply process said: %s", line.rstrip())
                continue
            try:
                if "progress" in message:
                    on_progress(Progress(**message["progress"]))
                else:
                    answer = decode(message)
            except (KeyError, TypeError, ValueError) as e:  # an answer of the wrong shape
                log.error("the apply process said what cannot be read (%s): %s", e,
                          line.rstrip())
    if answer is None:
        log.error("the process applying %s ended (code %s) without an answer", path,
                  child.returncode)
        return BatchRefused(None, f"the apply process ended with code {child.returncode}")
    return answer


def encode(result: BatchApplied | BatchRefused) -> dict:
    if isinstance(result, BatchApplied):
        report = result.report
        return {"applied": {"batch": report.batch, "version": report.version,
                            "added": report.added, "updated": report.updated,
                            "withdrawn": report.withdrawn}}
    return {"refused": {"problem": result.problem.value if result.problem else None,
                        "why": result.why, "unreadable": result.unreadable}}


def decode(message: dict) -> BatchApplied | BatchRefused:
    if "applied" in message:
        return BatchApplied(ApplyReport(**message["applied"]))
    refused = message["refused"]
    problem = refused["problem"]
    return BatchRefused(BatchProblem(problem) if problem else None, refused["why"],
                        refused["unreadable"])


def main(argv: list[str]) -> int:
    from common import logsetup
    logsetup.configure("INFO")
    catalogue_dir, public_key, batch = argv

    def say(message: dict) -> None:
        print(json.dumps(message, ensure_ascii=False), flush=True)

    result = apply_from_stick(BatchTarget(Path(catalogue_dir), Path(public_key)), batch,
                              lambda step: say({"progress": {"percent": step.percent,
                                                             "message": step.message}}))
    say(encode(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
