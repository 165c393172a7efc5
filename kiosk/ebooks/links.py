"""Signed, expiring download links (contract "QR download link" in ARCHITECTURE.md).

`{base}/d/{book_id}?k={kiosk_id}&e={expiry}&s={signature}`: the signature is the first 32 hex
digits (128 bits) of HMAC-SHA256 over "book_id|kiosk_id|expiry" with this kiosk's link key,
which the download server holds too. The kiosk makes links offline; a link stops working at
its expiry (Unix seconds). 32 digits keep the QR code small enough to scan from across a desk.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from urllib.parse import quote

from kiosk.errors import KioskError
from kiosk.journal.patron_key import load_or_create

SIGNATURE_DIGITS = 32
BOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class LinkKeyError(KioskError, ValueError):
    """The link key cannot be read or made."""


def load_or_make_key(path: Path) -> bytes:
    return load_or_create(path, "QR-link key", LinkKeyError,
                          lost="QR codes already shown stop working")


class LinkSigner:
    def __init__(self, key: bytes, kiosk_id: str, base: str, *, ttl_s: int = 1800) -> None:
        self.key = key
        self.kiosk_id = kiosk_id
        self.base = base.rstrip("/")
        self.ttl_s = ttl_s

    def signature(self, book_id: str, kiosk_id: str, expiry: int) -> str:
        message = f"{book_id}|{kiosk_id}|{expiry}".encode("utf-8")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()[:SIGNATURE_DIGITS]

    def link(self, book_id: str, now: float) -> str:
        if not BOOK_ID.match(book_id):
            raise ValueError(f"not a title id: {book_id!r}")
        expiry = int(now) + self.ttl_s
        signature = self.signature(book_id, self.kiosk_id, expiry)
        return (f"{self.base}/d/{book_id}?k={quote(self.kiosk_id, safe='')}"
                f"&e={expiry}&s={signature}")

    def check(self, book_id: str, kiosk_id: str, expiry: str, signature: str,
              now: float) -> str | None:
        """None when the link is good, else the reason it is refused."""
        if not BOOK_ID.match(book_id) or not expiry.isdigit():
            return "malformed"
        if kiosk_id != self.kiosk_id:
            return "other kiosk"  # signed with another kiosk's key: cannot be checked here
        expected = self.signature(book_id, kiosk_id, int(expiry))
        if not hmac.compare_digest(expected, signature.lower()):
            return "bad signature"
        if now > int(expiry):
            return "expired"
        return None
