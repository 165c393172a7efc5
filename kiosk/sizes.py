"""Sizes of files and free space: a file's length, and sizes as people read them ("12 KB")."""

from __future__ import annotations

import os
from pathlib import Path


def file_size(path: Path) -> int:
    """The file's length in bytes; 0 when it is not there (a WAL not made yet)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
