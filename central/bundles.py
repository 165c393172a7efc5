"""What a RAUC update bundle says about itself: its version and compatible, read with
`rauc info --no-verify` on whichever thread publishes it.

The server never verifies the signature (it holds no keyring, and never signs): kiosks verify
every bundle against the keyring installed on them. Reading the manifest only tells a bundle
from any other file and gives the version that the release is listed under.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from central.errors import ReleaseRefused
from central.i18n import N_
from common.versions import parse_version

log = logging.getLogger(__name__)
RAUC_TIMEOUT_S = 120


@dataclass(frozen=True)
class BundleInfo:
    version: str
    compatible: str


def read_bundle(path: Path) -> BundleInfo:
    """The bundle's manifest; ReleaseRefused when `path` is not a RAUC bundle or its version
    is not one kiosks can compare."""
    rauc = shutil.which("rauc")
    if rauc is None:
        raise ReleaseRefused(
            "the server cannot read update bundles: install RAUC (apt install rauc; "
            "./setup.sh deps does)",
            N_("The server cannot read update bundles: RAUC is not installed on it."))
    try:
        done = subprocess.run([rauc, "info", "--no-verify", "--output-format=json", str(path)],
                              capture_output=True, text=True, timeout=RAUC_TIMEOUT_S,
                              check=False)
    except subprocess.TimeoutExpired:
        raise ReleaseRefused(f"rauc info took over {RAUC_TIMEOUT_S} s on the file",
                             N_("The file could not be read as an update bundle.")) from None
    if done.returncode != 0:
        why = _last_line(done.stderr)
        log.info("not a bundle: rauc info said %s", why)
        raise ReleaseRefused(f"the file is not a RAUC update bundle (.raucb): rauc info says "
                             f"{why!r}", N_("The file is not an update bundle (.raucb)."))
    try:
        manifest = json.loads(done.stdout)
        version, compatible = str(manifest["version"] or ""), str(manifest["compatible"] or "")
    except (ValueError, KeyError, TypeError):
        raise ReleaseRefused("rauc info gave no version for the bundle",
                             N_("The update bundle has no version.")) from None
    try:
        parse_version(version)
    except ValueError as e:
        raise ReleaseRefused(f"the bundle's version: {e}",
                             N_("The update bundle's version {version} is not a version "
                                "kiosks can compare (use numbers such as 0.2.0)."),
                             version=version) from None
    return BundleInfo(version.strip(), compatible)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "nothing"
