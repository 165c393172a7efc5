"""The WAL index (`<file>-shm`) of the kiosk's SQLite files, and the SIGBUS it causes on a full
disk.

SQLite maps the `-shm` file into memory and grows it 32 KB at a time by writing one byte at the
end of each 4 KB page. On a file system with 1 KB blocks (ext4 on a small partition) the rest of
each page stays a hole until SQLite first touches it; if no block is free then, the kernel kills
the process with SIGBUS ("Bus error", exit 135), which no Python code can catch. The first
process to open a file also cuts its `-shm` back to nothing and grows it again.

So, before a connection's first read, `room_to_map()` tells whether the index it will map is
already allocated or the partition can allocate it; if not, a reader asks SQLite to keep the
index in its own memory (`locking_mode=EXCLUSIVE`) and a writer refuses. A writer that opened
allocates its index in full at once (`allocate()`), while there is room, so that a kiosk
running for months never needs a block for it later. Plain functions, any thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CHUNK = 32 * 1024  # SQLite grows the index by this much
FRAMES_PER_CHUNK = 4062  # WAL frames one chunk indexes (the first; later ones hold 4096)
PAGE_SIZE = 4096  # SQLite's default page size, which the kiosk's files use
WAL_HEADER, FRAME_HEADER = 32, 24
MARGIN = 64 * 1024  # for the file system's own blocks (extents, folder entries)
PREALLOCATE = 4 * CHUNK  # a writer's index: 16,000 frames, far more than a checkpoint leaves


@dataclass(frozen=True)
class Room:
    needed: int  # bytes the index needs allocated, margin included
    have: int  # free bytes the kiosk may use, plus what the index already holds

    @property
    def enough(self) -> bool:
        return self.have >= self.needed


def shm_path(path: Path) -> Path:
    return path.with_name(path.name + "-shm")


def wal_path(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def room_to_map(path: Path) -> Room:
    """Whether opening `path` can map its WAL index without a hole it cannot fill.

    Blocks the index already holds count as room: another process that has it open keeps them,
    and the first to open cuts the file back, which frees them for the new index."""
    try:
        wal_bytes = os.stat(wal_path(path)).st_size
    except OSError:
        wal_bytes = 0
    frames = max(0, wal_bytes - WAL_HEADER) // (PAGE_SIZE + FRAME_HEADER)
    needed = (frames // FRAMES_PER_CHUNK + 1) * CHUNK + MARGIN
    try:
        held = os.stat(shm_path(path)).st_blocks * 512
    except OSError:
        held = 0
    return Room(needed, free_bytes(path.parent) + held)


def free_bytes(folder: Path) -> int:
    """Bytes an unprivileged process may still allocate on the partition holding `folder`;
    a very large number when that cannot be told (nothing is refused on a guess)."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return 1 << 62
    return st.f_bavail * st.f_frsize


def allocate(path: Path, size: int = PREALLOCATE) -> bool:
    """Allocate every block of the index that SQLite has open for `path` in this process, up to
    `size` bytes; False when this process has no such index open. Raises OSError (ENOSPC).

    Done through SQLite's own descriptor: opening the file again and closing it would drop the
    POSIX locks SQLite holds on it."""
    try:
        target = os.stat(shm_path(path))
    except OSError:
        return False
    for fd in _open_descriptors():
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            os.posix_fallocate(fd, 0, max(size, st.st_size))
            return True
    return False


def is_whole(path: Path) -> bool:
    """Whether the index exists with every block allocated (at least one chunk)."""
    try:
        st = os.stat(shm_path(path))
    except OSError:
        return False
    return st.st_size >= CHUNK and st.st_blocks * 512 >= st.st_size


def _open_descriptors() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # not Linux: nothing to find, nothing allocated
        return []
