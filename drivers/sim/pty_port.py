"""The far end of a simulated serial device: a pty whose other end the real driver opens.

A stable symlink (like udev's /dev/serial/by-id names) points at the current pty, so that
`unplug()` and `replug()` behave as a USB adapter does: the path vanishes, then returns with a
new device behind it. With `baud` set, replies are paced to the time the bytes take on a real
line (10 bits a byte at 8N1), so benchmarks see a real reader's wire time.

Runs one thread, started by `start()`; `reply_to(data)` is called on it with every chunk read.
`reset()`, when given, is called at every plug-in: a device powered up again has forgotten
what it had half read.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)
BITS_PER_BYTE = 10  # start bit, 8 data bits, stop bit


class PtyDevice:
    def __init__(self, reply_to: Callable[[bytes], bytes], link: str | Path, *,
                 baud: int | None = None, reset: Callable[[], None] | None = None) -> None:
        self.reply_to = reply_to
        self.reset = reset
        self.link = Path(link)
        self.baud = baud
        self.received = bytearray()  # everything the driver wrote, for tests to inspect
        self.sent_count = 0  # bytes the device sent, for the benchmarks' wire-time floor
        self._master = -1
        self._slave = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def start(self) -> "PtyDevice":
        self.replug()
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.link.name}", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.unplug()

    def unplug(self) -> None:
        """The cable is pulled: the path disappears and the open port starts failing."""
        with self._lock:
            self.link.unlink(missing_ok=True)
            for fd in (self._master, self._slave):
                if fd >= 0:
                    os.close(fd)
            self._master = self._slave = -1

    def replug(self) -> None:
        """Plugged in again: a new pty behind the same path."""
        with self._lock:
            if self._master >= 0:
                return
            if self.reset is not None:
                self.reset()
            master, slave = os.openpty()
            tty.setraw(slave)  # no echo or line editing before the driver configures it
            self._master, self._slave = master, slave
            self.link.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(slave))
            tmp.replace(self.link)

    def send(self, data: bytes) -> None:
        """Bytes the device sends on its own (a scanner's line), paced like `reply_to`'s."""
        self._pace(len(data))
        with self._lock:
            if self._master >= 0:
                os.write(self._master, data)
                self.sent_count += len(data)

    def _run(self) -> None:
        while not self._stop.is_set():
            fd = self._master
            if fd < 0:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                with self._lock:
                    # Unplugged since: that number may now be another file this process
                    # opened (a font, a picture), whose bytes are not ours to read.
                    if fd != self._master:
                        continue
                    data = os.read(fd, 4096)
            except OSError:
                time.sleep(0.02)  # unplugged under our feet, or the driver closed its end
                continue
            self.received += data
            self._pace(len(data))  # the request's own time on the line
            try:
                reply = self.reply_to(data)
            except Exception:  # noqa: BLE001 - a simulator bug must show, not hang the test
                log.exception("simulator %s failed", self.link.name)
                continue
            if reply:
                self.send(reply)

    def _pace(self, n: int) -> None:
        if self.baud:
            time.sleep(n * BITS_PER_BYTE / self.baud)
