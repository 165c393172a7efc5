"""The one HTTP Range form phones send when they resume a download: `bytes=a-b`, `bytes=a-`,
`bytes=-n` (RFC 9110 §14). Several ranges at once are answered with the whole file, which the
RFC allows and which no phone download needs."""

from __future__ import annotations

import re

# ASCII digits: `\d` also takes other scripts' digits, which no client sends.
_SINGLE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$", re.ASCII)
_DIGITS = 18  # longer numbers are past any file (and int() refuses 4,300 digits and more)


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
    if (not first and not last) or size == 0:
        return None  # an empty file is sent whole: it has no byte to start a range at
    if not first:  # the last n bytes
        n = _number(last, size)
        if n == 0:
            raise Unsatisfiable(header)
        return max(0, size - n), size - 1
    start = _number(first, size)
    if start >= size:
        raise Unsatisfiable(header)
    end = min(_number(last, size), size - 1) if last else size - 1
    if end < start:
        return None  # an invalid range is ignored, as the RFC says
    return start, end


def _number(digits: str, size: int) -> int:
    """The value of a run of ASCII digits; one too long for any file counts as just past it."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _DIGITS else size + 1
