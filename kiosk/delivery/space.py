"""Room on the data partition for a download: the bytes still to come plus a reserve must fit,
so a download never fills the partition the journal writes to."""

from __future__ import annotations

import os
from pathlib import Path

MB = 1024 * 1024


def free_bytes(folder: Path) -> int:
    """What an unprivileged writer may still use in `folder`'s file system."""
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def shortfall(folder: Path, needed: int, reserve: int) -> int:
    """How many bytes are missing for `needed` more while keeping `reserve` free (0: fits)."""
    return max(0, needed + reserve - free_bytes(folder))


def megabytes(n: int) -> str:
    return f"{n / MB:.1f} MB"
