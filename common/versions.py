"""Release versions and their order: the one comparison the kiosk (pull, USB stick, RAUC's
pre-install handler) and the central server use. Pure functions, any thread.

A version is dotted decimal numbers with an optional suffix after `+` or `-`: `0.2.0`,
`0.2.0+20261206`, `0.2.0-qemu`. Numbers compare as numbers (0.10 is newer than 0.9), a missing
part is a zero (0.2 is 0.2.0), and the suffix says which build but never orders two versions:
0.2.0-qemu and 0.2.0+1 are neither older than the other.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"(?P<numbers>[0-9]+(?:\.[0-9]+)*)(?:[+-](?P<build>[0-9A-Za-z.+-]+))?",
                      re.ASCII)


def parse_version(text: str) -> tuple[int, ...]:
    """The ordering key of a version: its numbers without trailing zeros (so equal versions
    give equal tuples). Raises ValueError when `text` is not a version."""
    stripped = text.strip() if isinstance(text, str) else text
    match = _VERSION.fullmatch(stripped) if isinstance(stripped, str) else None
    if match is None:
        raise ValueError(f"{stripped!r} is not a version: expected dotted numbers such as "
                         f"0.2.0, maybe with a build suffix such as 0.2.0+20261206 or "
                         f"0.2.0-qemu")
    numbers = [int(part) for part in match["numbers"].split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def is_older(a: str, b: str) -> bool:
    """True when version `a` comes before version `b` (build suffixes ignored)."""
    return parse_version(a) < parse_version(b)
