"""Running one part of the kiosk in a Python process of its own, with this interpreter and this
copy of the code: work whose libraries the patron app must not keep in memory for the rest of
the day (a batch's signature check loads cryptography, a catalogue's build the pinyin
dictionaries) is done there, and its memory is the system's again when it ends."""

from __future__ import annotations

import os
import sys
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parent.parent  # holds kiosk/, content/, common/, drivers/


def command(module: str, *args: str) -> list[str]:
    """`python -m module args...` with the interpreter running now."""
    return [sys.executable, "-m", module, *args]


def environment() -> dict[str, str]:
    """This process's environment, with this copy of the code first on the child's path."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ,
            "PYTHONPATH": str(CODE_ROOT) + (os.pathsep + path if path else "")}
