"""The one HTTP Range form phones send when they resume a download: `bytes=a-b`, `bytes=a-`,
`bytes=-n` (RFC 9110 §14). Several ranges at once are answered with the whole file, which the
RFC allows and which no phone download needs."""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(ValueError):
    """The range lies wholly past the end of the file: 416."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole file (no header, or one we ignore)."""
    if not header:
        return None
    match = _SINGLE.match(header.replace(" ", ""))
    if match is None:
        return None  # several ranges or another unit: the whole file
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        n = int(last)
        if n == 0:
            raise Unsatisfiable(header)
        return max(0, size - n), size - 1
    start = int(first)
    if start >= size:
        raise Unsatisfiable(header)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None  # an invalid range is ignored, as the RFC says
    return start, end
