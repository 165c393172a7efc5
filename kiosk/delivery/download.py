"""One file from the central server, resumable: the generic downloader of kiosk.delivery.

The folder holds the file being fetched (`NAME.part`, then `NAME` once verified) and
`download.json`: which file (path, size, sha256), the server's ETag and how many bytes are on
disk and synced. A cut connection is resumed with `Range: bytes=N-` (within the central
server's retry policy, counted afresh after each attempt that got bytes); a restart of the
process, or a reboot, resumes from what was synced, asking with `If-Range: <ETag>`, so a file
that changed on the server comes back whole (200) and is fetched from the start. Before any
byte is fetched the rest of the file plus a reserve must fit on the partition; while fetching,
half the reserve at least must stay free (else the partial file is deleted). Only a file whose
size and sha256 match the release is called downloaded; one that does not match is deleted.
The folder keeps at most one file: another target deletes what was there first.

Runs on the calling thread; sleeps only in the bandwidth limit and between retries.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import requests

from common.files import fsync_dir
from kiosk.delivery.jsonfile import read_json, write_json
from kiosk.delivery.space import free_bytes, megabytes, shortfall
from kiosk.delivery.throttle import RateLimit
from kiosk.errors import CentralRequestError, KioskError
from kiosk.upload.sender import Central

log = logging.getLogger(__name__)
STATE_NAME = "download.json"
PART_SUFFIX = ".part"
SYNC_EVERY = 4 * 1024 * 1024  # bytes between fsyncs: what a power cut can cost at most
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class DownloadFailure(StrEnum):
    NO_SPACE = "no_space"  # the partition has no room for the file and the reserve
    CHECKSUM = "checksum"  # the bytes are not the release's: deleted
    SERVER = "server"      # the server refused (a 4xx) or answered what cannot be used
    NETWORK = "network"    # no answer after the retries: what arrived stays for next time
    DISK = "disk"          # the data partition cannot be written
    PAUSED = "paused"      # asked to stop (the update window ended): resumed next time


class DownloadError(KioskError, RuntimeError):
    def __init__(self, message: str, failure: DownloadFailure) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class Target:
    path: str    # on the central server: /api/v1/releases/<id>/file
    size: int
    sha256: str  # 64 lower-case hex digits
    name: str    # the file's name in the folder


@dataclass(frozen=True)
class Progress:
    target: Target | None = None
    etag: str | None = None  # the server's ETag for the bytes on disk
    done_bytes: int = 0      # on disk and synced
    complete: bool = False   # verified and renamed to its name


class Downloader:
    def __init__(self, folder: Path, central: Central, *, limit: RateLimit,
                 reserve_bytes: int, keep_going: Callable[[], bool] = lambda: True,
                 on_progress: Callable[[int, int], None] = lambda done, total: None,
                 sync_every: int = SYNC_EVERY) -> None:
        self.folder = folder
        self.central = central
        self.limit = limit
        self.reserve = reserve_bytes
        self.keep_going = keep_going
        self.on_progress = on_progress
        self.sync_every = sync_every
        self.progress = load(folder)

    # --- what the folder holds --------------------------------------------------------------

    def complete_file(self) -> Path | None:
        """The verified file kept here, if any."""
        return _complete(self.folder, self.progress)

    # --- fetching -----------------------------------------------------------------------------

    def fetch(self, target: Target) -> Path:
        """The verified file, fetched or resumed; raises DownloadError."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.progress.target != target:
            if self.progress.target is not None:
                log.info("%s replaces %s: the old file is deleted first (one file at a time)",
                         target.name, self.progress.target.name)
            discard(self.folder)
            self._save(Progress(target))
        final = self.folder / target.name
        if self.complete_file() is not None:
            return final
        part = self.folder / (target.name + PART_SUFFIX)
        done = _align(part, self.progress.done_bytes)
        if done != self.progress.done_bytes or not done:
            self._save(replace(self.progress, done_bytes=done,
                               etag=self.progress.etag if done else None, complete=False))
        missing = shortfall(self.folder, target.size - done, self.reserve)
        if missing:
            raise DownloadError(
                f"not enough space on the data partition for {target.name}: it needs "
                f"{megabytes(target.size - done)} more plus {megabytes(self.reserve)} kept free "
                f"for the kiosk, and {megabytes(free_bytes(self.folder))} is free. Nothing was "
                f"downloaded; free {megabytes(missing)} (or lower [updates] reserve_mb)",
                DownloadFailure.NO_SPACE)
        if done:
            log.info("resuming %s at %s of %s", target.name, megabytes(done),
                     megabytes(target.size))
        self.on_progress(done, target.size)
        if done < target.size:
            self._fetch_rest(target, part)
        self._verify(target, part)
        os.replace(part, final)
        fsync_dir(self.folder)
        self._save(replace(self.progress, done_bytes=target.size, complete=True))
        log.info("%s downloaded and verified (sha256 %s)", target.name, target.sha256)
        return final

    def _fetch_rest(self, target: Target, part: Path) -> None:
        seen = [self.progress.done_bytes]

        def progressed() -> bool:
            moved = self.progress.done_bytes > seen[0]
            seen[0] = self.progress.done_bytes
            return moved

        try:
            self.central.retrying("GET", target.path, lambda: self._attempt(target, part),
                                  progressed=progressed)
        except CentralRequestError as e:
            kept = (f"; the {megabytes(self.progress.done_bytes)} downloaded are kept and the "
                    "next run resumes" if self.progress.done_bytes else "")
            failure = (DownloadFailure.NETWORK if e.retryable or e.status is None
                       else DownloadFailure.SERVER)
            raise DownloadError(f"{target.name} could not be downloaded: {e}{kept}",
                                failure) from None

    def _attempt(self, target: Target, part: Path) -> None:
        done = self.progress.done_bytes
        # The bytes as stored: offsets into a compressed body would not resume the file.
        headers = {"Accept-Encoding": "identity"}
        if done:
            headers["Range"] = f"bytes={done}-"
            if self.progress.etag:
                headers["If-Range"] = self.progress.etag
        with self.central.open_stream(target.path, headers) as reply:
            if reply.status_code == 206:
                answered = reply.headers.get("Content-Range", "")
                found = CONTENT_RANGE.match(answered)
                if not found or int(found[1]) != done or int(found[3]) != target.size:
                    self._start_over(part)
                    raise CentralRequestError(
                        f"the server answered bytes {answered!r} when asked for "
                        f"{done}- of {target.size}: starting over",
                        retryable=True)
            elif reply.status_code == 200:
                if done:
                    log.info("the server sent %s whole (its ETag is %s, was %s: the file changed"
                             " or the server does not resume): starting over", target.name,
                             reply.headers.get("ETag"), self.progress.etag)
                    self._start_over(part)
            elif reply.status_code == 416:
                self._start_over(part)
                raise CentralRequestError(f"the server has fewer than the {done} bytes already "
                                          f"downloaded of {target.name}: starting over",
                                          retryable=True)
            else:
                raise self.central.refusal(target.path, reply)
            self._save(replace(self.progress, etag=reply.headers.get("ETag")))
            self._write(reply, target, part)

    def _write(self, reply: requests.Response, target: Target, part: Path) -> None:
        done = self.progress.done_bytes
        unsynced = 0
        try:
            with open(os.open(part, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab") as f:
                try:
                    for chunk in reply.iter_content(self.limit.chunk_size):
                        if done + len(chunk) > target.size:
                            self._start_over(part)
                            raise DownloadError(
                                f"the server sent more than the {target.size} bytes announced "
                                f"for {target.name}: deleted", DownloadFailure.CHECKSUM)
                        f.write(chunk)
                        done += len(chunk)
                        unsynced += len(chunk)
                        self.limit.took(len(chunk))
                        if unsynced >= self.sync_every:
                            self._synced(f, done, target, part)
                            unsynced = 0
                        if done < target.size and not self.keep_going():
                            self._synced(f, done, target, part)
                            raise DownloadError(
                                f"stopped at {megabytes(done)} of {megabytes(target.size)} (the "
                                f"update window ended): the next run resumes",
                                DownloadFailure.PAUSED)
                except requests.RequestException as e:
                    self._synced(f, done, target, part)
                    raise CentralRequestError(f"the connection broke after {megabytes(done)} of "
                                              f"{megabytes(target.size)} ({type(e).__name__})",
                                              retryable=True) from None
                self._synced(f, done, target, part)
        except CentralRequestError:  # a ConnectionError, so an OSError too: not the disk's fault
            raise
        except OSError as e:
            self._start_over(part)
            full = e.errno in (errno.ENOSPC, errno.EDQUOT)
            raise DownloadError(
                f"{part}: cannot be written ({e.strerror}): "
                + ("the data partition is full; the partial file was deleted to give the space "
                   "back" if full else "is the data partition read-only or damaged? (kiosk "
                   "doctor)"), DownloadFailure.NO_SPACE if full else DownloadFailure.DISK
            ) from None
        if done < target.size:
            raise CentralRequestError(f"the server closed the connection after "
                                      f"{megabytes(done)} of {megabytes(target.size)}",
                                      retryable=True)

    def _synced(self, f: BinaryIO, done: int, target: Target, part: Path) -> None:
        """The bytes so far on disk, noted as done; the reserve must still be free."""
        f.flush()
        os.fsync(f.fileno())
        self._save(replace(self.progress, done_bytes=done))
        self.on_progress(done, target.size)
        free = free_bytes(self.folder)
        if free < self.reserve // 2:  # others (the journal) ate into it while we fetched
            self._start_over(part)
            raise DownloadError(
                f"the data partition is filling up ({megabytes(free)} free, "
                f"{megabytes(self.reserve)} is kept for the kiosk): the download of "
                f"{target.name} stopped and its partial file was deleted; free some space",
                DownloadFailure.NO_SPACE)

    def _verify(self, target: Target, part: Path) -> None:
        size = _size(part)
        digest = _sha256(part) if size == target.size else None
        if digest == target.sha256:
            return
        self._start_over(part)
        found = (f"its sha256 is {digest}, the release's is {target.sha256}" if digest
                 else f"it has {size} bytes, the release {target.size}")
        raise DownloadError(f"{target.name} is not the published file ({found}): refused and "
                            "deleted; it is downloaded again next time", DownloadFailure.CHECKSUM)

    def _start_over(self, part: Path) -> None:
        part.unlink(missing_ok=True)
        self._save(replace(self.progress, etag=None, done_bytes=0, complete=False))

    def _save(self, progress: Progress) -> None:
        self.progress = progress
        try:
            write_json(self.folder / STATE_NAME, asdict(progress))
        except OSError as e:
            raise DownloadError(f"{self.folder / STATE_NAME}: cannot be written ({e.strerror})",
                                DownloadFailure.NO_SPACE if e.errno == errno.ENOSPC
                                else DownloadFailure.DISK) from None


def load(folder: Path) -> Progress:
    data = read_json(folder / STATE_NAME)
    if not data:
        return Progress()
    try:
        target = data.get("target")
        return Progress(Target(**target) if target else None, data.get("etag"),
                        int(data.get("done_bytes") or 0), bool(data.get("complete")))
    except (TypeError, ValueError) as e:
        log.error("%s: cannot be read (%s); starting afresh", folder / STATE_NAME, e)
        return Progress()


def discard(folder: Path) -> None:
    """Delete everything a downloader left in `folder`: its file, partial or whole, and its
    notes (one file at most is kept; this keeps none)."""
    if folder.is_dir():
        for path in folder.iterdir():
            if path.is_file() or path.is_symlink():
                path.unlink()


def complete_file(folder: Path) -> Path | None:
    """The verified file a downloader left in `folder`, if any (for whoever uses it next)."""
    return _complete(folder, load(folder))


def _complete(folder: Path, progress: Progress) -> Path | None:
    target = progress.target
    if target is None or not progress.complete:
        return None
    path = folder / target.name
    return path if _size(path) == target.size else None


def _align(part: Path, recorded: int) -> int:
    """The bytes to resume from: what was synced and noted, and is still on disk. Anything
    after it (written, not yet synced when the power went) is cut off."""
    actual = _size(part)
    done = min(recorded, actual)
    if actual > done:
        os.truncate(part, done)
    return done


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()
