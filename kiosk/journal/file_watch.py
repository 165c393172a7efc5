"""Whether anything may have happened to the journal's file since the writer last looked, asked of
the kernel instead of a stat() of the path for every row.

The writer must not append to a journal that was deleted, moved, swapped or cut short under it
(`Journal._same_file`: one stat() of the path). Nothing can do any of that without the kernel
queueing an event on a watch set here, before the syscall that did it returns:
- on the file itself (inotify): unlinked, or another file renamed over it (its link count
  changes: IN_ATTRIB), renamed away (IN_MOVE_SELF), written or truncated other than through the
  WAL (IN_MODIFY: a checkpoint, a prune giving space back, or something cutting it short);
- on every folder on its path, as written and as resolved (a symlink itself, not followed):
  moved, deleted, or its attributes or links changed;
- on the mount table (`/proc/self/mountinfo` polls "priority" on any mount or unmount): a
  partition mounted over the path, or unmounted lazily under it.
So "no event queued" means the path still names the file it named at the last stat, and the
writer skips the stat; any event, however harmless (our own checkpoints), sends it to the full
check, after the watches are set anew on what the path names now (on the same inotify
instance: see `renew`). `epoll_wait(0)` asks without blocking: one syscall, no object built
but an empty list.

Linux only; where inotify is missing or refuses (no more instances or watches), `changed()`
always says True and the writer stats the path on every row as before. Runs in the writer's
thread.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import select
import weakref
from collections.abc import Callable
from pathlib import Path

IN_MODIFY = 0x2
IN_ATTRIB = 0x4
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_DONT_FOLLOW = 0x02000000
IN_MASK_ADD = 0x20000000  # one inode met twice (as written and resolved) keeps both masks
_ON_FILE = IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
_ON_FOLDER = IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF
_MOUNTS = "/proc/self/mountinfo"
_PATH_GONE = (errno.ENOENT, errno.ENOTDIR, errno.EACCES)


def _libc() -> ctypes.CDLL | None:
    """The C library's inotify calls, from the symbols Python itself was linked with."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.inotify_init1, libc.inotify_add_watch  # noqa: B018 (there, or AttributeError)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


class FileWatch:
    """Kernel watches on `path`, its folders and the mount table. `changed()` is truthy when an
    event came since the last call (or there is no watch); then call `renew()` before looking
    at the file, so that nothing happening after the look goes unseen."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fds: list[int | select.epoll] = []  # inotify, the mount table, the epoll on both
        self._given_up = False  # the kernel refused for want of watches: stat every row
        self._inotify = -1  # the inotify instance while there is one (first in `_fds`)
        self._watched: set[int] = set()  # the watch descriptors on the path as last looked at
        self._poll: Callable[[], object] = _always
        self.changed: Callable[[], object] = _always
        self._closer = weakref.finalize(self, _close_all, self._fds)
        self.renew()

    def renew(self) -> None:
        """Watches set anew on what the path names now (a folder replaced under the same name
        is watched from here on, one no longer on the path is not), and the events so far read
        away; if that cannot be done, `changed()` says True from now on.

        The inotify instance is kept from one look to the next (the writer's own checkpoints
        send it to a look every few hundred rows): closing one waits for the kernel to retire
        its watches (milliseconds), and the first watch on a folder walks the folder's entries.
        A watch set again on an inode that has one costs a lookup. The events are read after
        the watches are set: each one read happened before the look that follows, which sees
        what it did; any later one stays queued for the next `changed()`."""
        self.changed = _always  # until the watches are set
        if self._given_up:
            return
        try:
            if not self._fds:
                self._inotify = _inotify_instance()
                self._fds.append(self._inotify)
                mounts = os.open(_MOUNTS, os.O_RDONLY | os.O_CLOEXEC)
                self._fds.append(mounts)
                # One descriptor to ask about both: epoll_wait(0) reads a ready list the
                # kernel fills as each event is queued (before the syscall that caused it
                # returns), where poll() would ask each descriptor in turn: half the time.
                ready = select.epoll()
                self._fds.append(ready)
                ready.register(self._inotify, select.EPOLLIN)
                # Reported once for each change of the mount table after the open or the
                # wait that last reported one, without a read.
                ready.register(mounts, select.EPOLLPRI)
                # The events ready, without waiting (a C call: no Python frame for each row).
                self._poll = functools.partial(ready.poll, 0, 2)
            watched = _watch(self._inotify, self._path)
            for stale in self._watched - watched:
                _remove(self._inotify, stale)
            self._watched = watched
            _drain(self._inotify)
        except OSError as e:
            _close_all(self._fds)
            self._watched = set()
            # A path gone is the file's fault, which the stat then reports; anything else
            # (no inotify, no more instances or watches) would fail again on every row.
            self._given_up = e.errno not in _PATH_GONE
            return
        self.changed = self._poll

    def look_again(self) -> None:
        """The look after `renew()` found the file not the journal: the next row must look
        too, though nothing may happen to the path from now on."""
        self.changed = _always

    def close(self) -> None:
        self._closer()
        self.changed = _always


def _always() -> bool:
    return True


def _inotify_instance() -> int:
    if _LIBC is None:
        raise OSError(errno.ENOSYS, "no inotify here")
    fd = _LIBC.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    return fd


def _watch(fd: int, path: Path) -> set[int]:
    """Watches on `path` and the folders on its way, as written and as resolved, with their
    descriptors (an inode watched already keeps its own); OSError when the kernel refuses any."""
    written = Path(os.path.abspath(path))
    watched = {_add(fd, written, _ON_FILE)}  # the file itself, through a symlink if one
    for name in {written, *written.parents, *written.resolve().parents}:
        watched.add(_add(fd, name, _ON_FOLDER | IN_DONT_FOLLOW))  # each name's own inode
    return watched


def _add(fd: int, path: Path, mask: int) -> int:
    assert _LIBC is not None
    wd = _LIBC.inotify_add_watch(fd, os.fsencode(path), mask | IN_MASK_ADD)
    if wd < 0:
        raise OSError(ctypes.get_errno(), "inotify_add_watch", str(path))
    return int(wd)


def _remove(fd: int, wd: int) -> None:
    """The watch off; one whose inode is gone is off already (the kernel says EINVAL)."""
    assert _LIBC is not None
    _LIBC.inotify_rm_watch(fd, wd)


def _drain(fd: int) -> None:
    """Read away the events queued (the descriptor does not block)."""
    try:
        while os.read(fd, 65536):
            pass
    except BlockingIOError:
        pass


def _close_all(fds: list[int | select.epoll]) -> None:
    while fds:
        fd = fds.pop()
        try:
            if isinstance(fd, int):
                os.close(fd)
            else:
                fd.close()
        except OSError:
            pass
