"""The uploader's own small state file beside the journal: the batch in flight, the last success,
the last error, the catalogue version the server has.

Written whole to a temporary file, synced and renamed, so a power cut leaves the old state or
the new one. The pending batch is on disk before its request goes out: after a crash between the
server's answer and `mark_sent`, the next run sends the same batch_id and the server answers
"duplicate" instead of counting the rows twice. Read by the uploader, the admin screen's status
check and `kiosk doctor`; written only by the uploader (which holds the lock file).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from common.files import fsync_dir
from kiosk.errors import JournalError

log = logging.getLogger(__name__)
FILE_NAME = "upload-state.json"
LOCK_NAME = "upload.lock"


@dataclass(frozen=True)
class PendingBatch:
    batch_id: str
    first_seq: int
    last_seq: int


@dataclass(frozen=True)
class UploadState:
    pending: PendingBatch | None = None
    last_upload_utc: str | None = None  # when the server last accepted a batch of counts
    last_contact_utc: str | None = None  # when the server last accepted any request
    last_error: str | None = None  # the last run's first failure; None after a clean run
    last_error_utc: str | None = None
    catalogue_sent: str | None = None  # the catalogue version the server has the titles of

    def with_error(self, message: str, when: str) -> UploadState:
        return replace(self, last_error=message, last_error_utc=when)

    def without_error(self) -> UploadState:
        return replace(self, last_error=None, last_error_utc=None)


def state_path(journal_path: Path) -> Path:
    return journal_path.with_name(FILE_NAME)


def load(path: Path) -> UploadState:
    """The state in `path`; a missing or damaged file is a fresh state."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pending = data.get("pending")
        return UploadState(
            pending=PendingBatch(str(pending["batch_id"]), int(pending["first_seq"]),
                                 int(pending["last_seq"])) if pending else None,
            last_upload_utc=data.get("last_upload_utc"),
            last_contact_utc=data.get("last_contact_utc"), last_error=data.get("last_error"),
            last_error_utc=data.get("last_error_utc"), catalogue_sent=data.get("catalogue_sent"))
    except FileNotFoundError:
        return UploadState()
    except OSError as e:
        raise JournalError(f"{path}: cannot read the upload state: {e.strerror}") from None
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        # Only progress notes live here (the journal keeps what was sent): start afresh.
        log.error("%s: upload state unreadable (%s); starting afresh", path, e)
        return UploadState()


def save(path: Path, state: UploadState) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"
    try:
        # 0600 from the start, like every data file (kiosk.private_files).
        with open(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w",
                  encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
        fsync_dir(path.parent)
    except OSError as e:
        temp.unlink(missing_ok=True)
        raise JournalError(f"{path}: cannot write the upload state: {e.strerror}") from None


@contextmanager
def exclusive(folder: Path) -> Iterator[bool]:
    """Holds the uploader's lock in `folder`; yields False when another upload holds it."""
    try:
        fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise JournalError(f"{folder / LOCK_NAME}: cannot open the upload lock: "
                           f"{e.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock
