"""Sizes of files and free space as people read them: "12 KB", "3.4 GB"."""

from __future__ import annotations


def size_text(n: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
