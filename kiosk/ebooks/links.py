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
from urllib.parse import parse_qs, quote, urlsplit

from kiosk import secret_keys
from kiosk.errors import KioskError

SIGNATURE_DIGITS = 32
BOOK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# ASCII digits only: str.isdigit() takes "²" and "١", which int() refuses or reads, and a
# 5,000-digit value passes isdigit() but int() refuses it (Python's digit limit).
EXPIRY = re.compile(r"[0-9]{1,12}", re.ASCII)
SIGNATURE = re.compile(r"[0-9a-fA-F]{%d}" % SIGNATURE_DIGITS, re.ASCII)


class LinkKeyError(KioskError, ValueError):
    """The link key cannot be read or made."""


def load_or_make_key(path: Path) -> bytes:
    return secret_keys.load_or_create(path, "QR-link key", LinkKeyError,
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

    def link(self, book_id: str, now: float, base: str | None = None) -> str:
        """The link for `book_id`, at `base` (the signer's own unless given: the signature
        does not cover it)."""
        if not BOOK_ID.match(book_id):
            raise ValueError(f"not a title id: {book_id!r}")
        expiry = int(now) + self.ttl_s
        signature = self.signature(book_id, self.kiosk_id, expiry)
        base = self.base if base is None else base.rstrip("/")
        return (f"{base}/d/{book_id}?k={quote(self.kiosk_id, safe='')}"
                f"&e={expiry}&s={signature}")

    def check(self, book_id: str, kiosk_id: str, expiry: str, signature: str,
              now: float) -> str | None:
        """None when the link is good, else the reason it is refused."""
        if not BOOK_ID.match(book_id) or not EXPIRY.fullmatch(expiry):
            return "malformed"
        if kiosk_id != self.kiosk_id:
            return "other kiosk"  # signed with another kiosk's key: cannot be checked here
        if not SIGNATURE.fullmatch(signature):  # compare_digest refuses non-ASCII text
            return "bad signature"
        expected = self.signature(book_id, kiosk_id, int(expiry))
        if not hmac.compare_digest(expected, signature.lower()):
            return "bad signature"
        if now > int(expiry):
            return "expired"
        return None


def link_fields(target: str) -> tuple[str, str, str, str] | None:
    """(book id, kiosk id, expiry, signature) from a request target `/d/<id>?k=&e=&s=`, as
    text for `LinkSigner.check()`, or None when the path is not a download's. Never raises:
    the target is whatever a phone (or anyone on the Wi-Fi) sent."""
    try:
        url = urlsplit(target)
    except ValueError:  # "//[::1" and the like: an unreadable host part
        return None
    parts = url.path.split("/")
    if len(parts) != 3 or parts[1] != "d":
        return None
    query = {k: v[0] for k, v in parse_qs(url.query, errors="replace").items()}
    return parts[2], query.get("k", ""), query.get("e", ""), query.get("s", "")
