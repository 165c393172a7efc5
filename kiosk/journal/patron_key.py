"""The kiosk's secret key for hashing patron identifiers, kept in a file only its owner can read
(loaded and made by `kiosk.secret_keys`).

The journal stores HMAC-SHA256(key, patron id): the same patron gives the same hash on this kiosk,
so visits can be counted, but the number cannot be recovered from the journal without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from kiosk import secret_keys
from kiosk.errors import JournalError


def load_or_create(path: Path, error: type[Exception] = JournalError) -> bytes:
    """The patron key in `path`, made on first use; an unreadable or malformed key raises
    `error` (the journal's own, or the offline store's)."""
    return secret_keys.load_or_create(path, "patron key", error,
                                      lost="old and new hashes will not match")


def patron_hash(key: bytes, patron: str) -> str:
    """HMAC-SHA256 of the card number, in hex."""
    return hmac.digest(key, patron.strip().encode("utf-8"), "sha256").hex()


class PatronHasher:
    """`patron_hash` with one key, for a writer that hashes on every row. HMAC (RFC 2104) is
    SHA-256 over the key padded with 0x5c followed by SHA-256 over the key padded with 0x36 and
    the message: both padded keys are hashed once here, and each card costs two copies of those
    states and a block each, in C (the hmac module's `copy()`, `update()` and `hexdigest()` are
    Python calls around the same work).

    The last card's hash is kept: a patron's session writes an intent and an outcome for each
    item, all with one card. Only in this process's memory, where the caller holds the card
    anyway; the journal never stores it."""

    def __init__(self, key: bytes) -> None:
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(key.translate(_INNER_PAD))
        self._outer = hashlib.sha256(key.translate(_OUTER_PAD))
        self._last: tuple[str | None, str] = (None, "")  # the last card asked, its hash

    def __call__(self, patron: str) -> str:
        last = self._last
        if patron == last[0]:
            return last[1]
        inner = self._inner.copy()
        inner.update(patron.strip().encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        self._last = (patron, outer.hexdigest())
        return self._last[1]


_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))
