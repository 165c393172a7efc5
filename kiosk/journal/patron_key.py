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
    """`patron_hash` with one key, for a writer that hashes on every row: the key's part of
    the HMAC is computed once and copied for each card (hmac's `copy()`), not keyed again."""

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, patron: str) -> str:
        mac = self._keyed.copy()
        mac.update(patron.strip().encode("utf-8"))
        return mac.hexdigest()
