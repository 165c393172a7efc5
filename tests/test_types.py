"""The type checker over the shipped packages (its settings in pyproject.toml): strict on the core
and the drivers, mypy's defaults elsewhere, and zero errors in all of them, so that a wrong type
at an interface fails the suite, not a review.

One mypy run for every package (a cold run takes about 15 s); its cache sits in the checkout's
.mypy_cache (ignored by git), so a second run on an unchanged tree takes a few seconds."""

import subprocess
import sys

from tests.conftest import ROOT

# Everything that ships; `common` is the base package kiosk, central and content share.
PACKAGES = ("kiosk", "drivers", "central", "content", "common")


def test_the_shipped_packages_pass_the_type_checker():
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache"), *PACKAGES],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 0, (
        f"mypy: {len(errors)} errors\n" + "\n".join(errors[:150]) + "\n" + result.stderr[-1000:])
