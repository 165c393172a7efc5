"""Applying an e-book batch that the media helper found on a stick: the app's side, as user
kiosk. The helper (root) only mounted the stick and listed the batch; the signature, the
manifest and every file are checked here by the catalogue store, which then switches the
catalogue atomically. Runs on the media worker's thread (kiosk.media.worker), so the
connection, and with it the mount, stays while the batch is read. Before that, right after a
scan, `look_into` reads each batch's manifest (unverified: only to name it on its row) and
places it against the kiosk's catalogue, on the same thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from common.batch_names import batch_order, is_older_batch
from content.batch_source import MANIFEST, BatchSource
from content.errors import BatchProblem, ContentError
from content.manifest import parse_manifest
from content.store import ApplyReport, CatalogueStore
from kiosk.media.protocol import Batch, Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchTarget:
    """Where a batch goes on this kiosk, and the key it must be signed with (from the config)."""
    catalogue_dir: Path
    public_key: Path

    def current_version(self) -> str | None:
        current = CatalogueStore(self.catalogue_dir).current_dir()
        return current.name if current else None

    def current_batch(self) -> str | None:
        return CatalogueStore(self.catalogue_dir).current_batch()


# Reading ahead stays short: staff wait for the list. A plain tar is read by seeking from
# header to header, a folder by listing it; a compressed tar must be unpacked up to its
# manifest, so a large one is left for Apply to read.
LOOK_BUDGET_S = 10.0
MAX_COMPRESSED_LOOK = 64 * 1024 * 1024


class Standing(StrEnum):
    """A batch on the stick against the kiosk's catalogue."""
    NEWER = "newer"            # the next to apply
    LATER = "later"            # newer, but another newer one on the stick comes first
    CURRENT = "current"        # the catalogue's own batch
    OLDER = "older"            # refused unless a technician says --allow-older
    UNREADABLE = "unreadable"  # no manifest to read: `why`
    NOT_READ = "not_read"      # left unread (time or size, `why`): Apply checks it


@dataclass(frozen=True)
class BatchLook:
    batch: str | None  # the manifest's name (None: not read)
    titles: int        # the manifest's entries
    standing: Standing
    why: str = ""      # in English, or "中文 / English" from the content tools


def look_into(target: BatchTarget, batches: Sequence[Batch], *,
              budget_s: float = LOOK_BUDGET_S, max_compressed: int = MAX_COMPRESSED_LOOK
              ) -> dict[str, BatchLook]:
    """Each batch's look, by its path; never raises. Batches not reached within `budget_s`,
    and compressed tars over `max_compressed` bytes, are NOT_READ."""
    deadline = time.monotonic() + budget_s
    named: dict[str, tuple[str, int]] = {}
    looks: dict[str, BatchLook] = {}
    for batch in batches:
        if time.monotonic() >= deadline:
            looks[batch.path] = BatchLook(None, 0, Standing.NOT_READ,
                                          f"not read within {budget_s:.0f} s")
        elif not batch.folder and not batch.name.lower().endswith(".tar") \
                and batch.size > max_compressed:
            looks[batch.path] = BatchLook(None, 0, Standing.NOT_READ,
                                          f"compressed, {batch.size / 1e6:.0f} MB")
        else:
            try:
                named[batch.path] = _read_manifest(Path(batch.path))
            except (ContentError, OSError) as e:
                why = str(e) if isinstance(e, ContentError) else (e.strerror or str(e))
                log.info("the e-book batch %s cannot be read: %s", batch.path, why)
                looks[batch.path] = BatchLook(None, 0, Standing.UNREADABLE, why)
    current = target.current_batch()
    newer = [name for name, _titles in named.values()
             if current is None or is_older_batch(current, name)]
    first = min(newer, key=batch_order) if newer else None
    for path, (name, titles) in named.items():
        if current is not None and batch_order(name) == batch_order(current):
            standing = Standing.CURRENT
        elif name not in newer:
            standing = Standing.OLDER
        else:
            standing = (Standing.NEWER if batch_order(name) == batch_order(first or name)
                        else Standing.LATER)
        looks[path] = BatchLook(name, titles, standing)
    return {batch.path: looks[batch.path] for batch in batches}


def _read_manifest(path: Path) -> tuple[str, int]:
    with BatchSource(path) as source:
        manifest = parse_manifest(source.read_small(MANIFEST))
    return manifest.batch, len(manifest.entries)


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
