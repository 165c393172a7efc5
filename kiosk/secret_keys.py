"""The kiosk's secret keys (the patron-hash key, the QR-link key): each a file of 64 hex digits
that only its owner can read, made on first use. Owns reading, checking and creating them;
what a key is for stays with its user (`kiosk.journal.patron_key`, `kiosk.ebooks.links`).
Runs on whichever thread opens the key's user (the main thread at start-up).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from common.files import fsync_dir
from kiosk import private_files, sqlite_faults
from kiosk.errors import JournalError

log = logging.getLogger(__name__)
KEY_BYTES = 32


def load_or_create(path: Path, purpose: str, error: type[Exception], lost: str) -> bytes:
    """The key in `path`, made on first use; an unreadable or malformed key raises `error`.

    `purpose` names the key in messages, `lost` says what starting a new one costs.
    """
    if not path.exists():
        try:
            _create(path, purpose)
        except OSError as e:
            cause = sqlite_faults.cause_of(e, path)
            message = (f"{path}: cannot create the {purpose}: "
                       + sqlite_faults.describe(cause, path, purpose, e.strerror or str(e)))
            raise (error(message, cause=cause) if issubclass(error, JournalError)
                   else error(message)) from None
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise error(f"{path}: {purpose} unreadable ({e}); restore it from backup, or "
                    f"move it away to start a new key ({lost})") from None
    if len(key) != KEY_BYTES:
        raise error(f"{path}: {purpose} must be {KEY_BYTES * 2} hex digits, "
                    f"found {len(text)} characters")
    private_files.tighten(path)
    return key


def _create(path: Path, purpose: str) -> None:
    private_files.private_folder(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Written whole and flushed, then linked into place: a power cut leaves no key or the whole key.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(KEY_BYTES) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # fails if another process made the key meanwhile: keep theirs
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    fsync_dir(path.parent)
    log.info("%s: new %s created", path, purpose)
