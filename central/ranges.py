"""HTTP byte ranges for release downloads (RFC 9110 §14): which part of a file a `Range`
header asks for, and whether an `If-Range` validator still matches. Pure functions.

One range only (`bytes=N-`, `bytes=N-M`, `bytes=-N`), which is what a resuming download
sends; a header this does not understand, or several ranges, is answered with the whole file,
as the RFC allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ONE_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.ASCII)


class RangeNotSatisfiable(ValueError):
    """The range starts at or past the end of the file (answered 416)."""


@dataclass(frozen=True)
class ByteRange:
    first: int  # inclusive
    last: int   # inclusive

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.first}-{self.last}/{size}"


def asked_range(header: str | None, size: int) -> ByteRange | None:
    """The part of a `size`-byte file that `header` asks for; None for the whole file."""
    if not header:
        return None
    match = _ONE_RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(f"bytes=-{suffix} of a {size}-byte file")
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise RangeNotSatisfiable(f"byte {start} is past the end of a {size}-byte file")
    return ByteRange(start, min(int(last), size - 1) if last else size - 1)


def if_range_holds(if_range: str | None, etag: str) -> bool:
    """True when there is no If-Range, or it names this ETag (a strong match). A date, or an
    ETag of another file, means the client's part is stale: send the whole file."""
    return if_range is None or if_range.strip() == etag
