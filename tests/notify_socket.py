"""systemd's side of the notify protocol for tests: a real AF_UNIX datagram socket that keeps
every message a kiosk process sends to $NOTIFY_SOCKET."""

from __future__ import annotations

import socket
import time
from pathlib import Path


class NotifySocket:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[list[str]] = []  # each datagram's lines, in order of arrival

    def env(self, watchdog_s: float | None = None) -> dict[str, str]:
        env = {"NOTIFY_SOCKET": str(self.path)}
        if watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(watchdog_s * 1_000_000))
        return env

    def receive(self, timeout: float) -> list[str] | None:
        """The next datagram's lines, or None when none came within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return None
        lines = data.decode("utf-8").split("\n")
        self.messages.append(lines)
        return lines

    def wait_for(self, line: str, timeout: float = 90.0, app=None) -> list[str]:
        """The first datagram holding `line` (a whole line, or a prefix ending in '=...')."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if app is not None and app.poll() is not None:
                raise AssertionError(f"the app ended ({app.returncode}) before sending {line}")
            lines = self.receive(min(1.0, max(0.01, deadline - time.monotonic())))
            if lines is not None and any(_matches(got, line) for got in lines):
                return lines
        raise AssertionError(f"no {line} within {timeout} s; got {self.messages}")

    def drain(self) -> list[list[str]]:
        got = []
        while (lines := self.receive(0.01)) is not None:
            got.append(lines)
        return got

    def statuses(self) -> list[str]:
        return [line[len("STATUS="):] for lines in self.messages for line in lines
                if line.startswith("STATUS=")]

    def close(self) -> None:
        self.sock.close()


def _matches(got: str, wanted: str) -> bool:
    return got.startswith(wanted[:-3]) if wanted.endswith("...") else got == wanted
