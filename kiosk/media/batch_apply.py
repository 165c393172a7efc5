"""Applying an e-book batch that the media helper found on a stick: the app's side, as user
kiosk. The helper (root) only mounted the stick and listed the batch; the signature, the
manifest and every file are checked here by the catalogue store, which then switches the
catalogue atomically. Runs on the media worker's thread (kiosk.media.worker), so the
connection, and with it the mount, stays while the batch is read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from content.errors import BatchProblem, ContentError
from content.store import ApplyReport, CatalogueStore
from kiosk.media.protocol import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchTarget:
    """Where a batch goes on this kiosk, and the key it must be signed with (from the config)."""
    catalogue_dir: Path
    public_key: Path

    def current_version(self) -> str | None:
        current = CatalogueStore(self.catalogue_dir).current_dir()
        return current.name if current else None


@dataclass(frozen=True)
class BatchApplied:
    report: ApplyReport


@dataclass(frozen=True)
class BatchRefused:
    problem: BatchProblem | None  # None: the stick could not be read, or something unforeseen
    why: str                      # in English, for the log and the technician
    unreadable: bool = False      # the stick failed under the read (pulled out, broken)


def apply_from_stick(target: BatchTarget, path: str,
                     on_progress: Callable[[Progress], None]) -> BatchApplied | BatchRefused:
    """Check, then apply, the batch at `path`; each whole percent read is a Progress. Never
    raises: the worker thread must live on whatever the batch or the stick does."""
    last = -1

    def progress(done: int, total: int) -> None:
        nonlocal last
        percent = min(100, done * 100 // total) if total > 0 else 100
        if percent != last:
            last = percent
            on_progress(Progress(percent, f"{done / 1e6:.1f} / {total / 1e6:.1f} MB"))

    log.info("applying the e-book batch %s from a USB stick", path)
    try:
        report = CatalogueStore(target.catalogue_dir).apply(Path(path), target.public_key,
                                                             progress=progress)
    except ContentError as e:
        log.warning("the e-book batch %s is refused (%s): %s", path, e.problem, e)
        return BatchRefused(e.problem, str(e))
    except OSError as e:
        log.warning("the e-book batch %s could not be read: %s", path, e)
        return BatchRefused(None, f"{path}: {e.strerror or e}", unreadable=True)
    except Exception as e:  # a fault of ours: said on the screen, never a dead worker
        log.exception("applying the e-book batch %s failed", path)
        return BatchRefused(None, f"{type(e).__name__}: {e}")
    log.info("applied the e-book batch %s from a USB stick as %s", report.batch, report.version)
    return BatchApplied(report)
