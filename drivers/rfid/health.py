"""How well a reader has been answering: the last few exchanges, judged good or bad.

Pure and clock-free; the pad driver's device thread feeds it one verdict per call to its link.
A reply that came late (a timeout), arrived broken, or had noise or a stray reply around it is
bad; a tag that did not answer is not the reader's fault and counts as good. A reader with too
many bad replies among its last ones is degraded: the pad reopens it, and it has recovered once
a whole window of replies has been good.
"""

from __future__ import annotations

from collections import Counter, deque
from enum import StrEnum

WINDOW = 20  # the replies judged
DEGRADED_AT = 5  # bad replies among the last WINDOW that make a reader degraded


class Bad(StrEnum):
    LATE = "late"  # no complete reply in time
    BROKEN = "broken"  # a reply that does not parse
    NOISY = "noisy"  # a good reply, with noise or a stray reply around it


class ReplyHealth:
    def __init__(self, window: int = WINDOW, degraded_at: int = DEGRADED_AT) -> None:
        self.degraded_at = degraded_at
        self._recent: deque[Bad | None] = deque(maxlen=window)  # None: a good reply
        self.last_problem = ""

    def good(self) -> None:
        self._recent.append(None)

    def bad(self, kind: Bad, why: str) -> None:
        self._recent.append(kind)
        self.last_problem = why

    @property
    def bad_count(self) -> int:
        return sum(1 for verdict in self._recent if verdict is not None)

    @property
    def degraded(self) -> bool:
        return self.bad_count >= self.degraded_at

    @property
    def clean(self) -> bool:
        """A whole window of good replies."""
        return len(self._recent) == self._recent.maxlen and not self.bad_count

    def summary(self) -> str:
        """Why the reader is degraded: "5 of its last 20 replies were bad (4 late, 1 broken);
        last: no complete reply to command 0A within 0.4 s"."""
        kinds = Counter(verdict for verdict in self._recent if verdict is not None)
        counts = ", ".join(f"{kinds[kind]} {kind}" for kind in Bad if kinds[kind])
        return (f"{self.bad_count} of its last {len(self._recent)} replies were bad ({counts}); "
                f"last: {self.last_problem}")
