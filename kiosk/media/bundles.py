"""The update bundles at the top of a mounted stick: their names, sizes and versions.

The version comes from `rauc info` (which also checks the signature against the kiosk's
keyring): a bundle it refuses is listed with why, never offered for installing. A bundle not
newer than the running system is listed as older. The connection's thread; rauc runs through a
Runner.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from common.versions import is_older
from kiosk.commands import Runner
from kiosk.media.protocol import Bundle, Problem
from kiosk.update import rauc

SUFFIX = ".raucb"
MAX_FILES = 200  # names listed per stick: a stick full of photos is not our business


def top_level(point: Path) -> tuple[list[Path], list[str]]:
    """(regular files named *.raucb, every name) at the top of `point`; symlinks never
    followed, hidden names (macOS's ._ files) skipped."""
    bundles: list[Path] = []
    names: list[str] = []
    with os.scandir(point) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            if len(names) < MAX_FILES:
                names.append(entry.name)
            if entry.name.lower().endswith(SUFFIX) and entry.is_file(follow_symlinks=False):
                bundles.append(Path(entry.path))
    return bundles, names


def describe(path: Path, runner: Runner, running: str | None) -> Bundle:
    size = _size(path)
    version, why = rauc.bundle_version(path, runner)
    if version is None:
        return Bundle(str(path), path.name, size, None, Problem.NOT_A_BUNDLE, why)
    older = not_newer(version, running)
    if older:
        return Bundle(str(path), path.name, size, version, Problem.OLDER, older)
    return Bundle(str(path), path.name, size, version)


def not_installable(path: Path, problem: Problem, why: str) -> Bundle:
    """A bundle listed without asking rauc (a kiosk without RAUC)."""
    return Bundle(str(path), path.name, _size(path), None, problem, why)


def _size(path: Path) -> int:
    info = path.lstat()
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def not_newer(version: str, running: str | None) -> str | None:
    """Why `version` may not replace `running` from the admin screen, or None."""
    if running is None:
        return None  # nothing to compare with: RAUC's pre-install handler decides
    try:
        if is_older(version, running) or not is_older(running, version):
            return (f"{version} is not newer than the running system {running}; a technician "
                    "installs an older one with: kiosk update install --allow-older BUNDLE")
    except ValueError as e:
        return str(e)
    return None
