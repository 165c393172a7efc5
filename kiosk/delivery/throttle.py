"""A bandwidth limit for downloads: after each chunk, wait until the bytes so far fit the rate.

The clock and the sleep are injected, so a test checks the schedule without waiting. A second
of credit is allowed (a chunk may go at once after a pause), but a download that fell behind
(a slow network) does not save up a burst for later.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CREDIT_S = 1.0
MAX_CHUNK = 64 * 1024


class RateLimit:
    def __init__(self, bytes_per_s: float | None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """`bytes_per_s` None or 0: no limit."""
        self.bytes_per_s = bytes_per_s or None
        self._clock = clock
        self._sleep = sleep
        self._due: float | None = None  # when the bytes so far may all have arrived

    @classmethod
    def kbps(cls, kilobits_per_s: int, **kwargs) -> RateLimit:
        """[updates] max_rate_kbps: kilobits (1,000 bits) per second, 0 for no limit."""
        return cls(kilobits_per_s * 1000 / 8 if kilobits_per_s else None, **kwargs)

    @property
    def chunk_size(self) -> int:
        """Read at most about a second's worth at a time, so the waits stay short."""
        if self.bytes_per_s is None:
            return MAX_CHUNK
        return max(1024, min(MAX_CHUNK, int(self.bytes_per_s)))

    def took(self, n: int) -> None:
        """`n` more bytes arrived: wait as long as the rate asks."""
        if self.bytes_per_s is None:
            return
        now = self._clock()
        due = now - CREDIT_S if self._due is None else max(self._due, now - CREDIT_S)
        self._due = due + n / self.bytes_per_s
        if self._due > now:
            self._sleep(self._due - now)
