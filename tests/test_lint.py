"""The project's linter over the whole tree (its rules in pyproject.toml): an unused import, an
undefined name, an unsorted import block or a line over 100 columns fails the suite, not a
review."""

import subprocess
import sys

from tests.conftest import ROOT


def test_the_tree_passes_the_linter():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]
