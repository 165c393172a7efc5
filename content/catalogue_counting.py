"""Counting a catalogue build's titles (catalogue_parts.Tally) on a thread of its own, while
SQLite sorts and writes the terms: making and adding up a title's keys, some eighty, took
nearly half the time of reading it, and the sorts need no Python and leave the second core
half idle.

As titles are read, each one's share of the counts (its fields' keys, or what its title's are
made from) is written, a batch at a time, to a file beside the staging file; the thread reads
it back when every title is staged. Batches are marshalled: the file is written and read by
one process, so marshal's format, which is tied to the Python version, is safe here (it writes
a batch in half pickle's time, and a tuple that titles share once). The file goes with the
staging file.
"""

from __future__ import annotations

import marshal
import threading
from pathlib import Path
from typing import BinaryIO

from content.catalogue_parts import Field, Tally, title_keys
from content.errors import ContentError

Window = tuple[str, str]  # a licence window: valid_from, valid_until
_SIZE = 4  # bytes of a batch's size


class LaterCount:
    """Titles' shares of the counts, kept in a file until `start` adds them up on a thread."""

    def __init__(self, path: Path, counts: dict[Window, Tally]) -> None:
        self._path = path
        self._file: BinaryIO = path.open("w+b")
        self._batch: list[tuple] = []
        self._counts = counts
        self._thread: threading.Thread | None = None
        self._failed: Exception | None = None
        self._stopping = False

    def add(self, window: Window, title: Field, author: tuple[str, ...],
            isbn: tuple[str, ...]) -> None:
        """One title: its title's keys, or what they are made from (title_keys), and its
        author's and ISBN's keys."""
        self._batch.append((window, author, isbn, title.whole, title.keys, title.folded,
                            title.spelled, title.initials, title.spelled_from,
                            title.initials_from))

    def flush(self) -> None:
        """Write the batch: its size, then the batch marshalled as one list."""
        if self._batch:
            data = marshal.dumps(self._batch)
            self._file.write(len(data).to_bytes(_SIZE, "little"))
            self._file.write(data)
            self._batch.clear()

    def start(self) -> None:
        """Add up everything written into the counts given, on a thread; `join` waits."""
        self.flush()
        self._file.flush()
        self._file.seek(0)
        self._thread = threading.Thread(target=self._count, name="catalogue-counts",
                                        daemon=True)
        self._thread.start()

    def join(self) -> None:
        """Wait for the counts to be added up; raise what stopped them."""
        self._wait()
        if self._failed is not None:
            raise ContentError(f"counting the catalogue's titles failed: {self._failed}"
                               ) from self._failed

    def close(self) -> None:
        """Stop counting (the build failed, or is done) and remove the file."""
        self._stopping = True
        self._wait()
        self._file.close()
        self._path.unlink(missing_ok=True)

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _count(self) -> None:
        counts = self._counts
        try:
            while not self._stopping:
                size = self._file.read(_SIZE)
                if not size:
                    return
                batch = marshal.loads(self._file.read(int.from_bytes(size, "little")))
                for (window, author, isbn, whole, keys, folded, spelled, initials,
                     spelled_from, initials_from) in batch:
                    counts[window].add(keys if whole else title_keys(
                        folded, spelled, initials, spelled_from, initials_from), author, isbn)
        except Exception as failed:  # raised again by join, on the build's thread
            self._failed = failed
