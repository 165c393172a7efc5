"""Resumable uploads from the staff page: a file arrives in chunks, each sent with the offset
it starts at, and is written straight to a `.part` file in the releases' incoming folder
(never held whole in memory). After a dropped connection the page asks where the server got
to and goes on from there. Runs on FastAPI's worker threads; one lock per upload keeps two
requests from writing the same file at once.

An upload is named by who sends which file (user, file name, size and modification time), so
choosing the same file again after a reload, or after the server restarted, finds the bytes
already here. The SHA-256 is computed as the bytes are written; after a restart it is
computed once more from the part file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from central.errors import ReleaseRefused
from central.i18n import N_
from central.releases import COPY_CHUNK, Staged, check_room, disk_error
from central.storage import utc_now

log = logging.getLogger(__name__)
STALE_AFTER = dt.timedelta(days=7)  # an upload nobody went on with is deleted after this
BUSY_WAIT_S = 20.0  # how long a chunk waits for the one before it to let go of the file


@dataclass(frozen=True)
class UploadState:
    id: str
    name: str
    size: int      # the whole file's size, as the page announced it
    offset: int    # bytes the server has

    @property
    def complete(self) -> bool:
        return self.offset == self.size


class OffsetMismatch(ReleaseRefused):
    """A chunk that does not start where the server's bytes end; the page goes on from
    `offset`."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"the server has {offset} bytes of this upload",
                         N_("The upload goes on from what the server has."))
        self.offset = offset


class Uploads:
    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._hashes: dict[str, tuple[int, object]] = {}  # id -> (offset, sha256 so far)

    def _part(self, upload_id: str) -> Path:
        return self.folder / f"upload-{upload_id}.part"

    def _meta(self, upload_id: str) -> Path:
        return self.folder / f"upload-{upload_id}.json"

    def _lock(self, upload_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(upload_id, threading.Lock())

    def start(self, user: str, name: str, size: int, modified: int) -> UploadState:
        """The upload of this file by this user: a new one, or the one already under way."""
        if size > self.max_bytes:
            raise ReleaseRefused(f"the file is over {self.max_bytes // 2**20} MB ([central] "
                                 "max_release_mb)", N_("The file is over {mb} MB."),
                                 mb=str(self.max_bytes // 2**20))
        if size == 0:
            raise ReleaseRefused("the file is empty", N_("The file is empty."))
        self.folder.mkdir(parents=True, exist_ok=True)
        self._prune()
        key = json.dumps([user, name, size, modified], ensure_ascii=False)
        upload_id = hashlib.sha256(key.encode()).hexdigest()[:32]
        meta = self._meta(upload_id)
        part = self._part(upload_id)
        check_room(self.folder, size - (part.stat().st_size if part.exists() else 0))
        if not meta.exists():
            meta.write_text(json.dumps({"user": user, "name": name, "size": size,
                                        "modified": modified,
                                        "started": utc_now()},
                                       ensure_ascii=False), encoding="utf-8")
            self._part(upload_id).touch()
        state = self.state(upload_id, user)
        log.info("upload %s of %s (%d bytes) by %s: %s", upload_id, name, size, user,
                 f"resumed at byte {state.offset}" if state.offset else "started")
        return state

    def state(self, upload_id: str, user: str) -> UploadState:
        """Raises ReleaseRefused for an upload that is not there or not this user's."""
        _checked(upload_id)
        try:
            meta = json.loads(self._meta(upload_id).read_text(encoding="utf-8"))
            offset = self._part(upload_id).stat().st_size
        except (OSError, ValueError):
            raise ReleaseRefused(f"no upload {upload_id}",
                                 N_("This upload is gone; choose the file again.")) from None
        if meta["user"] != user:
            raise ReleaseRefused(f"upload {upload_id} is another user's",
                                 N_("This upload is gone; choose the file again."))
        return UploadState(upload_id, meta["name"], int(meta["size"]), offset)

    def write(self, upload_id: str, user: str, offset: int, chunks: Iterable[bytes]
              ) -> UploadState:
        """Appends the chunk's bytes at `offset`, which must be where the server's bytes
        end (OffsetMismatch otherwise). Bytes written before a connection drops are kept."""
        lock = self._lock(_checked(upload_id))
        if not lock.acquire(timeout=BUSY_WAIT_S):
            raise ReleaseRefused(f"upload {upload_id} is being written by another request",
                                 N_("The server is still busy with the previous chunk; "
                                    "try again in a moment."))
        try:
            state = self.state(upload_id, user)
            if offset != state.offset:
                raise OffsetMismatch(state.offset)
            digest = self._digest(upload_id, state.offset)
            written = state.offset
            try:
                out = open(self._part(upload_id), "ab")
            except OSError as e:
                raise disk_error(e) from None
            try:
                with out:
                    for chunk in chunks:
                        if written + len(chunk) > state.size:
                            raise ReleaseRefused(
                                f"more bytes than the {state.size} announced",
                                N_("The file sent is larger than announced; choose it again."))
                        out.write(chunk)
                        out.flush()  # the page may ask how far it got while this runs
                        digest.update(chunk)
                        written += len(chunk)
            except OSError as e:  # the disk filled up, or failed, under the upload
                raise disk_error(e) from None
            finally:
                self._hashes[upload_id] = (written, digest)
            return UploadState(upload_id, state.name, state.size, written)
        finally:
            lock.release()

    def finish(self, upload_id: str, user: str) -> Staged:
        """The complete file, ready to publish; the upload's own files are handed over."""
        lock = self._lock(_checked(upload_id))
        with lock:
            state = self.state(upload_id, user)
            if not state.complete:
                raise ReleaseRefused(f"upload {upload_id} has {state.offset} of {state.size} "
                                     "bytes", N_("The upload is not complete yet."))
            digest = self._digest(upload_id, state.offset)
            with open(self._part(upload_id), "rb+") as part:
                os.fsync(part.fileno())
            staged = self.folder / f"upload-{upload_id}.staged"
            os.replace(self._part(upload_id), staged)
            self._meta(upload_id).unlink(missing_ok=True)
            self._hashes.pop(upload_id, None)
        return Staged(staged, state.size, digest.hexdigest())

    def _digest(self, upload_id: str, offset: int):
        """The SHA-256 of the part file's first `offset` bytes: kept from the writes, or read
        again after a restart (or after a write that failed half-way)."""
        known = self._hashes.get(upload_id)
        if known is not None and known[0] == offset:
            return known[1]
        digest = hashlib.sha256()
        with open(self._part(upload_id), "rb") as part:
            while chunk := part.read(COPY_CHUNK):
                digest.update(chunk)
        self._hashes[upload_id] = (offset, digest)
        return digest

    def _prune(self) -> None:
        limit = time.time() - STALE_AFTER.total_seconds()
        for path in self.folder.iterdir():  # uploads, and copies a crash left behind
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    log.info("deleted %s: an upload or copy nobody went on with", path.name)
            except OSError:
                pass


def _checked(upload_id: str) -> str:
    """Only ids this module made: 32 hex digits (no path can hide in one)."""
    if len(upload_id) != 32 or not all(c in "0123456789abcdef" for c in upload_id):
        raise ReleaseRefused(f"no upload {upload_id[:40]!r}",
                             N_("This upload is gone; choose the file again."))
    return upload_id
