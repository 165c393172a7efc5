"""Ed25519 keys and signatures of batch manifests (contract "E-book batch" in ARCHITECTURE.md).

Staff keep the private key on their PC; every kiosk holds the public key and applies only
batches whose `manifest.json.sig` (the raw 64-byte signature of the manifest's exact bytes)
checks out with it.

cryptography is imported by each function that uses it, not with this module: the patron app
imports the catalogue store, whose apply (in a process of its own) is the only part that
verifies (kiosk.media.apply_process).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from content.errors import BatchError, BatchProblem, ContentError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

SIGNATURE_SUFFIX = ".sig"
_KEY_PROBLEM = {"public": BatchProblem.KEY, "private": None}  # a kiosk's key vs staff's


def keygen(private_path: Path, public_path: Path) -> None:
    """A new key pair: the private key readable by its owner only, never overwritten."""
    for path in (private_path, public_path):
        if path.exists():
            raise ContentError(f"{path} exists already; a signing key is never overwritten")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_pem)
    public_path.write_bytes(public_pem)


def load_private(path: Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = _load(path, "private", lambda data: serialization.load_pem_private_key(data, None))
    if not isinstance(key, Ed25519PrivateKey):
        raise ContentError(f"{path} is not an Ed25519 private key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = _load(path, "public", serialization.load_pem_public_key)
    if not isinstance(key, Ed25519PublicKey):
        raise ContentError(f"{path} is not an Ed25519 public key", BatchProblem.KEY)
    return key


def public_key_pem(data: bytes) -> bytes:
    """`data` as the PEM of an Ed25519 public key, re-encoded (one canonical form whatever line
    ends or byte-order mark a PC added); ContentError saying what it is instead."""
    if b"PRIVATE KEY" in data:
        raise ContentError("this is the private key: it signs the batches and must never leave "
                           "the staff PC. Put the public key (content-signing.pub) here instead",
                           BatchProblem.KEY)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(data.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, TypeError):
        raise ContentError("not a public key in PEM form: copy content-signing.pub as "
                           "'kiosk content keygen' wrote it", BatchProblem.KEY) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ContentError("a public key, but not an Ed25519 one as 'kiosk content keygen' "
                           "makes", BatchProblem.KEY)
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _load(path: Path, which: str, parse):
    try:
        return parse(Path(path).read_bytes())
    except OSError as e:
        raise ContentError(f"cannot read the {which} key {path}: {e.strerror}",
                           _KEY_PROBLEM[which]) from None
    except (ValueError, TypeError):
        raise ContentError(f"{path} is not a {which} key in PEM form",
                           _KEY_PROBLEM[which]) from None


def sign(manifest_path: Path, private_key_path: Path) -> Path:
    """Write `manifest.json.sig` beside the manifest; returns its path."""
    signature = load_private(private_key_path).sign(Path(manifest_path).read_bytes())
    sig_path = Path(str(manifest_path) + SIGNATURE_SUFFIX)
    sig_path.write_bytes(signature)
    return sig_path


def verify(manifest: bytes, signature: bytes, public_key_path: Path) -> None:
    from cryptography.exceptions import InvalidSignature

    key = load_public(public_key_path)
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        raise BatchError("签名与清单不符：批次在签名后被改动，或不是用本馆的密钥签名的 / the "
                         "signature does not match the manifest: the batch was changed "
                         "after signing, or signed with another key",
                         BatchProblem.SIGNATURE) from None
