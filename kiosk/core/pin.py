"""Salted PIN hashes for the staff admin screen (PBKDF2-SHA256, as in the config's pin_hash).

Pure functions, safe on any thread. `verify_pin` is slow on purpose (about half a second on a
Pi 4): the runtime calls it on its PIN worker thread, never the UI thread or the core.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

ITERATIONS = 100_000  # about half a second on a Pi 4: slow for guessing, quick for staff
MIN_ITERATIONS = 100_000  # fewer makes a copied hash quick to guess: the config refuses it
MAX_ITERATIONS = 10_000_000  # more keeps the kiosk checking one PIN for a minute or more
MIN_DIGITS = 6  # `kiosk hash-pin` asks for --short below this
SCHEME = "pbkdf2_sha256"


@dataclass(frozen=True)
class PinHash:
    iterations: int
    salt: bytes
    digest: bytes


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def parse_hash(stored: str) -> PinHash | None:
    """The parts of a stored hash; None when it is not one of ours."""
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        return None
    _, iterations, salt_hex, digest_hex = parts
    # A digit string of thousands of characters is not a count anyone meant (and int() of it
    # raises beyond 4,300 digits): at most ten digits are read.
    if not (iterations.isascii() and iterations.isdigit() and len(iterations) <= 10):
        return None
    try:
        salt, digest = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return None
    if not salt or len(digest) != 32:
        return None
    return PinHash(int(iterations), salt, digest)


def hash_problem(stored: str) -> str | None:
    """Why a configured pin_hash cannot be used, or None when it can."""
    parsed = parse_hash(stored)
    if parsed is None:
        return "not a hash made by 'kiosk hash-pin'"
    if parsed.iterations < MIN_ITERATIONS:
        return (f"it uses {parsed.iterations} iterations, at least {MIN_ITERATIONS} are needed "
                "(a copied hash would be quick to guess): make a new one with 'kiosk hash-pin'")
    if parsed.iterations > MAX_ITERATIONS:
        return (f"it uses {parsed.iterations} iterations, at most {MAX_ITERATIONS} are allowed "
                "(each PIN would take minutes to check): make a new one with 'kiosk hash-pin'")
    return None


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches `stored`; False for any malformed or empty hash, and for one
    whose iteration count would keep the checking thread busy for minutes."""
    parsed = parse_hash(stored)
    if parsed is None or not 1 <= parsed.iterations <= MAX_ITERATIONS:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), parsed.salt, parsed.iterations)
    return hmac.compare_digest(digest, parsed.digest)
