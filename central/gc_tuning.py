"""The cyclic garbage collector, set for a server that parses large request bodies: each
3,000-count batch makes some 10,000 objects, and with the default thresholds the collector
runs every 700 and keeps walking every object the start-up made (FastAPI, pydantic, the
routes), which cost as much as validating the batch itself (bench/central_load.py). Objects
freed by reference counting, as nearly all of a request's are, never needed it.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)  # allocations before a young collection; then how often older


def tune() -> None:
    """Call once the app is built, just before serving: what exists now stays for good."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
