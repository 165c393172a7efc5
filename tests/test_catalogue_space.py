"""The space check's rule (content/store.space_needed) against what a catalogue build really
takes on a real, loop-mounted ext4 partition: the partition's lowest free space while the new
catalogue is written, sampled from a second thread, never falls further than the rule said."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from content.catalogue_write import write_catalogue
from content.store import space_needed
from tests import small_partition
from tests.search_cases import titles

pytestmark = pytest.mark.skipif(small_partition.why_not() is not None,
                                reason=str(small_partition.why_not()))
TITLES = 6000
NEW = 100


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


@contextmanager
def lowest_free(folder: Path):
    """Yields a list that holds, once the block ends, the lowest free space seen in it."""
    seen = [free_bytes(folder)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            seen[0] = min(seen[0], free_bytes(folder))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)  # the sampler gets its turn while the build runs Python
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        done.set()
        sampler.join()
        sys.setswitchinterval(interval)
        seen[0] = min(seen[0], free_bytes(folder))


def peak_use(folder: Path, build) -> int:
    os.sync()
    before = free_bytes(folder)
    with lowest_free(folder) as lowest:
        build()
    return before - lowest[0]


def test_a_build_never_takes_more_room_than_the_space_check_counted(tmp_path):
    every = titles(TITLES + NEW)
    old, new = every[:TITLES], every[TITLES:]
    with small_partition.small_partition(tmp_path, size="96M") as mounted:
        first, second = mounted / "v1" / "catalogue.sqlite", mounted / "v2" / "catalogue.sqlite"
        first.parent.mkdir()
        second.parent.mkdir()
        first_peak = peak_use(mounted, lambda: write_catalogue(first, old))
        assert first_peak <= space_needed(0, TITLES, 0), (first_peak, TITLES)
        current = first.stat().st_size
        second_peak = peak_use(mounted, lambda: write_catalogue(
            second, new, carried=[t.id for t in old], carried_from=first))
        counted = space_needed(0, NEW, current)
        assert second_peak <= counted, (second_peak, counted, current)
        # The sampler saw the staged rows: the peak is well above the new file alone.
        assert second_peak > second.stat().st_size * 1.3, (second_peak, second.stat().st_size)
        assert not list(second.parent.glob(".*staging*"))  # and they are gone after
