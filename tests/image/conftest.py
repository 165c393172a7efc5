"""The QEMU check of the SD image (`./setup.sh image --check`, marker `image`, not in the
normal run): where the image is, why it cannot run here, and the phase timings at the end."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, ROOT
from tests.image import vm
from tests.system import phases


def image_out() -> Path:
    """The build folder: KIOSK_IMAGE_OUT (set by ./setup.sh image --check), else build/image."""
    return Path(os.environ.get("KIOSK_IMAGE_OUT") or ROOT / "build" / "image")


def find_image(out: Path) -> Path | None:
    """The raw image the build keeps beside its .xz (faster to copy), else the .xz."""
    for pattern in ("kiosk-*-arm64.img", "kiosk-*-arm64.img.xz"):
        found = sorted(out.glob(pattern))
        if found:
            return found[-1]
    return None


def why_not() -> str | None:
    """Why the image cannot be booted here, or None; under CI a reason is an error."""
    reason = _why_not()
    if reason and os.environ.get("CI"):
        raise RuntimeError(f"the image check cannot run in CI: {reason}")
    return reason


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (mtools on the image copy, the build's files are root's)"
    missing = vm.tools_missing()
    if missing:
        return f"needs {', '.join(missing)}: ./setup.sh image --check installs them"
    if find_image(image_out()) is None:
        return f"no kiosk-*-arm64.img in {image_out()}: ./setup.sh image --check builds it"
    return None


@pytest.hookimpl(trylast=True)  # after -m has deselected them in the normal (and CI's) run
def pytest_collection_modifyitems(config, items):
    reason = None
    for item in items:
        if "image" in item.keywords and item.get_closest_marker("image"):
            reason = reason or why_not()
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def workdir(name: str) -> Path:
    """A VM's folder beside the build (its disk is a sparse copy of several GB), replaced at
    each run and kept after it for a look."""
    folder = image_out() / "check" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def pytest_sessionfinish(session):
    if phases.TIMINGS:
        phases.save(ARTIFACTS / "i14" / "image-check-timings.txt")


def pytest_terminal_summary(terminalreporter):
    if phases.TIMINGS:
        terminalreporter.section("image check phases")
        for line in phases.lines():
            terminalreporter.write_line(line)
