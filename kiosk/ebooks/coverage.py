"""Which bytes of a file each download link has been served, so that a download counts once,
when the pieces sent for one link cover the whole file, in whatever order they came.

Bounded memory: at most `max_links` links (the least recently used is forgotten first) and
`max_pieces` separate pieces per link (a piece that would make more is not kept: a scattered
client may go uncounted, never counted falsely). Thread-safe: the server's request threads all
call `add()`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

MAX_LINKS = 4096  # links in flight at once on one kiosk: far more than a day's downloads
MAX_PIECES = 64  # a phone resuming a download sends a handful

_DONE: list[tuple[int, int]] = []  # a link already counted (shared marker, never mutated)


class Coverage:
    def __init__(self, max_links: int = MAX_LINKS, max_pieces: int = MAX_PIECES) -> None:
        self.max_links = max_links
        self.max_pieces = max_pieces
        self._lock = threading.Lock()
        self._links: OrderedDict[Hashable, list[tuple[int, int]]] = OrderedDict()

    def add(self, token: Hashable, first: int, last: int, size: int) -> bool:
        """Bytes `first`..`last` (inclusive) of a `size`-byte file were sent for `token`: True
        exactly once, when that link's pieces first cover the whole file."""
        if last < first or first < 0 or last >= size:
            return size == 0 and self._finish(token)  # an empty file is whole at once
        with self._lock:
            pieces = self._links.pop(token, None)
            if pieces is _DONE:
                self._links[token] = _DONE
                return False
            merged = _merge(pieces or [], first, last)
            whole = merged == [(0, size - 1)]
            if len(merged) <= self.max_pieces or whole:
                pieces = merged
            self._links[token] = _DONE if whole else (pieces or [])
            while len(self._links) > self.max_links:
                self._links.popitem(last=False)
            return whole

    def _finish(self, token: Hashable) -> bool:
        with self._lock:
            done = self._links.get(token) is _DONE
            self._links[token] = _DONE
            return not done

    def pieces(self, token: Hashable) -> int:
        with self._lock:
            return len(self._links.get(token) or ())

    def __len__(self) -> int:
        with self._lock:
            return len(self._links)


def _merge(pieces: list[tuple[int, int]], first: int, last: int) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-adjacent pieces with first..last added."""
    out: list[tuple[int, int]] = []
    for a, b in sorted([*pieces, (first, last)]):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
