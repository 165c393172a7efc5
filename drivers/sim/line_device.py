"""A simulated serial barcode scanner or card reader: lines of text on a pty.

The real `SerialLineDriver` opens the pty behind `link` (a stable symlink, as udev's names are);
`send_line()` is a scan or a card held to the reader, `send_raw()` anything else (garbage,
half a line, bytes that are not ASCII). `unplug()` and `replug()` come from `PtyDevice`.
The device ignores what the host writes. Runs `PtyDevice`'s thread; `send_*` may be called
from any thread.
"""

from __future__ import annotations

from pathlib import Path

from drivers.sim.pty_port import PtyDevice


class LineDevice(PtyDevice):
    def __init__(self, link: str | Path, *, baud: int | None = None) -> None:
        super().__init__(lambda data: b"", link, baud=baud)
        self.lines: list[str] = []  # every line sent, for tests and the demo tray

    def start(self) -> "LineDevice":
        super().start()
        return self

    def send_line(self, text: str, terminator: bytes = b"\r") -> None:
        """One code as the device prints it (UTF-8 on the wire, for tests that send worse)."""
        self.lines.append(text)
        self.send(text.encode("utf-8") + terminator)

    def send_raw(self, data: bytes, *, chunk: int = 0) -> None:
        """Bytes as they are; with `chunk`, written that many at a time, each paced at the
        device's baud rate, so the driver sees a line trickle in."""
        step = chunk or len(data) or 1
        for start in range(0, len(data), step):
            self.send(data[start:start + step])
