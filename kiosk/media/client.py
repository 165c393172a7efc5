"""The app's side of the media helper's socket: blocking calls, for a worker thread.

One `MediaClient` is one connection, and so one set of mounts: keep it open while the admin
screen shows the stick, `close()` it to unmount. A missing or refusing socket is a
`MediaUnavailable` that says why (a kiosk installed with setup.sh has none).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from io import BufferedReader
from pathlib import Path
from typing import TypeVar

from kiosk.errors import KioskError
from kiosk.media.protocol import (
    FINAL,
    SOCKET_ENV,
    SOCKET_PATH,
    Failed,
    Installed,
    Op,
    Problem,
    Progress,
    ProtocolError,
    Rebooting,
    Released,
    Reply,
    Request,
    Scanned,
    decode_reply,
    encode,
)

CONNECT_TIMEOUT_S = 5.0
# An answer may take as long as rauc install does; the helper itself bounds that.
ANSWER_TIMEOUT_S = 3700.0

# The final answer an operation expects (besides Failed).
_Answer = TypeVar("_Answer", Scanned, Installed, Released, Rebooting)


class MediaUnavailable(KioskError, ConnectionError):
    """No helper to talk to: the socket is missing, refused, or hung up."""


def socket_path() -> Path:
    return Path(os.environ.get(SOCKET_ENV) or SOCKET_PATH)


class MediaClient:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or socket_path()
        self._sock: socket.socket | None = None
        self._reader: BufferedReader | None = None

    def connect(self) -> None:
        if self._sock is not None:
            return
        if not self.path.exists():
            raise MediaUnavailable(f"{self.path} does not exist: kiosk-media.socket is not "
                                   "running (it runs only on a kiosk from the SD-card image)")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(str(self.path))
        except OSError as e:
            sock.close()
            raise MediaUnavailable(f"cannot connect to {self.path} ({e.strerror or e}): is "
                                   "kiosk-media.socket running, and is the app's user in "
                                   "group kiosk?") from None
        sock.settimeout(ANSWER_TIMEOUT_S)
        self._sock, self._reader = sock, sock.makefile("rb")

    def request(self, request: Request, on_progress: Callable[[Progress], None] | None = None
                ) -> Reply:
        """The helper's final reply to `request`, of any kind; `on_progress` gets the rest."""
        self.connect()
        sock, reader = self._sock, self._reader
        if sock is None or reader is None:  # connect() returns connected or raises
            raise MediaUnavailable(f"not connected to {self.path}")
        try:
            sock.sendall(encode(request))
            while True:
                line = reader.readline()
                if not line:
                    raise MediaUnavailable("the media helper hung up without an answer: see "
                                           "journalctl -u kiosk-media.service")
                reply = decode_reply(line)
                if isinstance(reply, FINAL):
                    return reply
                if on_progress is not None:
                    on_progress(reply)
        except (OSError, ProtocolError) as e:
            self.close()
            if isinstance(e, MediaUnavailable):
                raise
            raise MediaUnavailable(f"talking to the media helper failed: {e}") from None

    def scan(self) -> Scanned | Failed:
        return self._ask(Request(Op.SCAN), Scanned)

    def install(self, path: str, on_progress: Callable[[Progress], None] | None = None
                ) -> Installed | Failed:
        return self._ask(Request(Op.INSTALL, path), Installed, on_progress)

    def release(self) -> Released | Failed:
        return self._ask(Request(Op.RELEASE), Released)

    def reboot(self) -> Rebooting | Failed:
        return self._ask(Request(Op.REBOOT), Rebooting)

    def _ask(self, request: Request, answer: type[_Answer],
             on_progress: Callable[[Progress], None] | None = None) -> _Answer | Failed:
        """The reply to `request` if it is `answer` or Failed; any other kind is the helper's
        fault, returned as a Failed that says what came."""
        reply = self.request(request, on_progress)
        if isinstance(reply, (answer, Failed)):
            return reply
        return Failed(Problem.UNEXPECTED_REPLY,
                      f"the media helper answered {request.op.value} with {reply!r}")

    def close(self) -> None:
        """Hang up: the helper unmounts what this connection mounted. Idempotent."""
        sock, reader, self._sock, self._reader = self._sock, self._reader, None, None
        for thing in (reader, sock):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass

    def __enter__(self) -> MediaClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
