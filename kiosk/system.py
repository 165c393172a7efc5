"""Facts about the machine the kiosk runs on: boot id, uptime, clock synchronisation, disk space;
and making a rename in a folder survive a power cut.

Plain functions, safe to call from any thread; nothing here raises on a machine that lacks the
feature (a laptop running the demo, a container): it answers "unknown" instead.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
MODEL_PATH = Path("/proc/device-tree/model")
_TIME_ERROR = 5  # adjtimex() return value while the kernel clock is not synchronised
_TIMEX_SIZE = 512  # larger than struct timex on every Linux architecture
_clock_cache: tuple[float, bool | None] | None = None  # (when asked, the answer)


def boot_id() -> str:
    """The kernel's id of this boot; rows with the same id share one clock history."""
    try:
        return BOOT_ID_PATH.read_text().strip()
    except OSError:
        return "unknown"


def uptime_s() -> float:
    """Seconds since the machine booted, suspended time included (as /proc/uptime counts)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def is_raspberry_pi() -> bool:
    """Whether the device tree names a Raspberry Pi (as Raspberry Pi OS's own tools check)."""
    try:
        return MODEL_PATH.read_bytes().startswith(b"Raspberry Pi")
    except OSError:
        return False


def clock_synchronised(max_age_s: float = 30.0) -> bool | None:
    """Whether NTP has set the kernel clock (a Pi has no battery clock); None if unknown.

    Asks the kernel with adjtimex(), as timedatectl does, and caches the answer, known or not,
    for `max_age_s` because the journal asks on every row.
    """
    global _clock_cache
    cached = _clock_cache
    now = time.monotonic()
    if cached is not None and now - cached[0] < max_age_s:
        return cached[1]
    answer = _ask_kernel_clock()
    _clock_cache = (now, answer)
    return answer


def _ask_kernel_clock() -> bool | None:
    libc = _libc()
    if libc is None:
        return None
    try:
        timex = ctypes.create_string_buffer(_TIMEX_SIZE)  # modes = 0: read only
        state = libc.adjtimex(timex)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != _TIME_ERROR


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library Python itself was linked with, loaded once: ctypes.util.find_library would
    run `ldconfig -p` (a process, milliseconds) each time the clock is asked."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def disk_free(path: str | Path) -> tuple[int, int] | None:
    """(free bytes, total bytes) of the file system holding `path` or its nearest parent."""
    try:
        usage = shutil.disk_usage(_nearest_existing(Path(path)))
    except OSError:
        return None
    return usage.free, usage.total


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


# Below this much free space the data partition counts as full: a journal write (a WAL frame,
# its index, a checkpoint growing the file) may fail at any moment.
FULL_BYTES = 1024 * 1024


@dataclass(frozen=True)
class DiskState:
    """The file system holding a folder, as statvfs tells it."""
    free: int  # bytes an unprivileged process may still allocate
    total: int
    read_only: bool  # refuses writes: mounted so, or made so by the kernel after card errors

    @property
    def full(self) -> bool:
        return self.free < FULL_BYTES


def disk_state(path: str | Path) -> DiskState | None:
    """The state of the file system holding `path` or its nearest existing parent."""
    p = _nearest_existing(Path(path))
    try:
        st = os.statvfs(p)
    except OSError:
        return None
    read_only = bool(st.f_flag & os.ST_RDONLY) or write_refused(p) == errno.EROFS
    return DiskState(st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize, read_only)


def write_refused(folder: Path) -> int | None:
    """The errno that refuses a new file in `folder`, or None when one can be made (it is
    removed at once). statvfs alone misses the read-only state the kernel puts an ext4 in after
    write errors ("emergency_ro"): only a write tells."""
    probe = Path(folder) / f".kiosk-write-probe-{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    except OSError as e:
        return e.errno
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return None
