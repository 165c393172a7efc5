"""The order of e-book batch names (`2026-12`, `2027-01`, `2026-12b`): the one comparison the
kiosk (apply, pull, USB stick) and the central server (publish) use. Pure, any thread.

Names compare part by part, runs of digits as numbers and the rest as lower-case text, so
`2026-9` is older than `2026-10`, `2027-01` is newer than `2026-12`, and `2026-12b` (a second
batch that month) is newer than `2026-12`.
"""

from __future__ import annotations

import re

# What a batch may be called (manifest.json's `batch`): it names files and folders too.
BATCH_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_PARTS = re.compile(r"(\d+)|(\D+)", re.ASCII)


def batch_order(name: str) -> tuple[tuple[int, int, str], ...]:
    """The ordering key of a batch name; equal keys are the same batch."""
    return tuple((0, int(digits), "") if digits else (1, 0, text.lower())
                 for digits, text in _PARTS.findall(name.strip()))


def is_older_batch(name: str, than: str) -> bool:
    return batch_order(name) < batch_order(than)
