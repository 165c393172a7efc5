"""The kiosk's secret key for hashing patron identifiers, kept in a file only its owner can read.

The journal stores HMAC-SHA256(key, patron id): the same patron gives the same hash on this kiosk,
so visits can be counted, but the number cannot be recovered from the journal without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from kiosk import private_files, sqlite_faults
from kiosk.errors import JournalError
from kiosk.system import fsync_dir

log = logging.getLogger(__name__)
KEY_BYTES = 32


def load_or_create(path: Path, purpose: str = "patron key",
                   error: type[Exception] = JournalError,
                   lost: str = "old and new hashes will not match") -> bytes:
    """The key in `path`, made on first use; an unreadable or malformed key raises `error`.

    Also keeps other secret keys of the kiosk (the QR-link key): `purpose` names the key in
    messages, `lost` says what starting a new one costs.
    """
    if not path.exists():
        try:
            _create(path)
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


def _create(path: Path) -> None:
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
    log.info("%s: new patron key created", path)


def patron_hash(key: bytes, patron: str) -> str:
    return hmac.new(key, patron.strip().encode("utf-8"), hashlib.sha256).hexdigest()
