"""Real RAUC bundles for the central server's tests, kept tiny (a few KiB): a development
update key made once per test module by setup.sh's own `make_update_key`, then `rauc bundle` of
a manifest, a slot image and 4 KiB of noise, as `./setup.sh bundle` makes them. Skipped (with the
reason) where rauc, mksquashfs or openssl are missing; an error under CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_units import source_setup

TOOLS = ("rauc", "mksquashfs", "openssl")


def why_not() -> str | None:
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    if not missing:
        return None
    reason = f"needs {', '.join(missing)} (./setup.sh deps installs them)"
    if os.environ.get("CI"):
        raise RuntimeError(f"the release tests cannot run in CI: {reason}")
    return reason


needs_rauc = pytest.mark.skipif(why_not() is not None, reason=why_not() or "")


def make_update_key(folder: Path) -> Path:
    """A development update key (CA and signing key) in `folder`/key; skips the test where
    the tools are missing. Test modules wrap it in a module-scoped fixture."""
    if why_not():
        pytest.skip(why_not())
    key = folder / "key"
    os.environ["KIOSK_UPDATE_KEY"] = str(key)
    try:
        made = source_setup(f'make_update_key "{key}"')
    finally:
        del os.environ["KIOSK_UPDATE_KEY"]
    assert made.returncode == 0, made.stdout + made.stderr
    return key


def make_bundle(key: Path, folder: Path, version: str, payload: bytes | None = None) -> Path:
    """A signed bundle of `version` in `folder`, as kiosk-<version>-arm64.raucb."""
    content = folder / f"content-{version}"
    content.mkdir(parents=True)
    (content / "manifest.raucm").write_text(
        f"[update]\ncompatible=library-kiosk-rpi-arm64\nversion={version}\n\n"
        "[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=root.ext4\n")
    (content / "root.ext4").write_bytes(payload or b"")
    # Incompressible bytes: RAUC refuses a squashfs of 4 KiB or less.
    (content / "noise").write_bytes(os.urandom(4096))
    bundle = folder / f"kiosk-{version}-arm64.raucb"
    subprocess.run(["rauc", "bundle", "--cert", key / "signing.cert.pem", "--key",
                    key / "signing.key.pem", content, bundle], check=True,
                   capture_output=True, timeout=60)
    shutil.rmtree(content)
    return bundle


def kiosk_checks(bundle: Path, key: Path) -> subprocess.CompletedProcess:
    """What a kiosk does before installing: the signature against its keyring (the CA)."""
    return subprocess.run(["rauc", "info", "--keyring", key / "ca.cert.pem", bundle],
                          capture_output=True, text=True, timeout=60, check=False)
