"""Never back to an older system by accident: RAUC's pre-install handler refuses a bundle older
than the running system, unless root asked for it (`kiosk update install --allow-older`, which
makes ALLOW_OLDER for the length of that one install).

RAUC runs the handler (image/rauc/pre-install: `python -m kiosk.update.downgrade`) as root
before it writes a slot, with the bundle mounted at RAUC_BUNDLE_MOUNT_POINT. RAUC 1.8 does not
set RAUC_MF_VERSION for it (seen in QEMU), so the version is read from the mounted bundle's
manifest.raucm when that variable is missing. A non-zero exit stops the install and RAUC
reports the handler's failure. Pure checks plus a few file reads.
"""

from __future__ import annotations

import argparse
import configparser
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from common.versions import is_older
from kiosk.update import release as kiosk_release

ALLOW_OLDER = Path("/run/kiosk-update/allow-older")
VERSION_ENV = "RAUC_MF_VERSION"
MOUNT_ENV = "RAUC_BUNDLE_MOUNT_POINT"


def refusal(bundle: str | None, running: str | None, allowed: bool) -> str | None:
    """Why the bundle may not be installed, or None."""
    if allowed:
        return None
    if running is None:
        return None  # nothing to compare with: a broken release file must not block repairs
    if not bundle:
        return (f"the bundle's manifest has no version ({VERSION_ENV} is empty): refused, "
                f"as it cannot be told newer than the running system {running}")
    try:
        older = is_older(bundle, running)
    except ValueError as e:
        return f"cannot compare the bundle's version with the running system's: {e}"
    if older:
        return (f"the bundle's version {bundle} is older than the running system {running}: "
                "refused. To go back on purpose, as root: kiosk update install --allow-older "
                "BUNDLE")
    return None


def manifest_version(mount_point: str | None) -> str | None:
    """`[update] version` of the manifest.raucm in the mounted bundle, or None."""
    if not mount_point:
        return None
    manifest = configparser.ConfigParser(interpolation=None)
    try:
        manifest.read_string((Path(mount_point) / "manifest.raucm").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return manifest.get("update", "version", fallback=None) or None


def allowed(path: Path = ALLOW_OLDER) -> bool:
    """Root made the file, in a folder only root may write: no one else can allow a downgrade."""
    try:
        folder, mark = path.parent.lstat(), path.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(folder.st_mode) and folder.st_uid == 0
            and not folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            and stat.S_ISREG(mark.st_mode) and mark.st_uid == 0)


@contextmanager
def allowing_older(path: Path = ALLOW_OLDER) -> Iterator[None]:
    """ALLOW_OLDER exists while the block runs (root only), and never after."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600))
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(prog="rauc-pre-install",
                                     description="RAUC's pre-install handler: refuses a bundle "
                                                 "older than the running system")
    parser.add_argument("--release", type=Path, default=kiosk_release.RELEASE_PATH)
    parser.add_argument("--allow-older", type=Path, default=ALLOW_OLDER)
    # RAUC runs a handler with its handler-args as one argument, "" when system.conf sets none.
    parser.add_argument("rauc_args", nargs="*", help="RAUC's handler-args (not used)")
    args = parser.parse_args(argv)
    running = kiosk_release.read_release(args.release)
    bundle = environ.get(VERSION_ENV) or manifest_version(environ.get(MOUNT_ENV))
    root_allows = allowed(args.allow_older)
    why = refusal(bundle, running.version if running else None, root_allows)
    if why:
        print(f"kiosk: {why}", file=sys.stderr)
        return 1
    if running is None:
        print(f"kiosk: {args.release} names no version: cannot compare, installing {bundle}",
              file=sys.stderr)
    elif root_allows:
        print(f"kiosk: installing {bundle} over {running.version} without the version check, "
              f"as root allowed ({args.allow_older})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
