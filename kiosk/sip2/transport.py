"""One TCP or TLS connection to the ILS, with a deadline on every socket call.

Runs on the thread that owns the `Sip2Client`. Socket errors are left to the client, which
decides what they mean (a lost reply, an ILS that is away).
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Callable

from kiosk.sip2.framing import END, FrameReader
from kiosk.sip2.settings import IlsSettings


def tls_context(settings: IlsSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.tls_ca or None)
    if not settings.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Connection:
    def __init__(self, sock: socket.socket, clock: Callable[[], float]) -> None:
        self._sock = sock
        self._clock = clock
        self._deadline = 0.0
        self._reader = FrameReader(self._recv)

    @classmethod
    def open(cls, settings: IlsSettings, clock: Callable[[], float]) -> Connection:
        """Connect (and do the TLS handshake) within `timeout_s`; raises OSError."""
        sock = socket.create_connection((settings.host, settings.port), timeout=settings.timeout_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if settings.tls:
                sock = tls_context(settings).wrap_socket(sock, server_hostname=settings.host)
        except BaseException:
            sock.close()
            raise
        return cls(sock, clock)

    def send(self, data: bytes, timeout_s: float) -> None:
        self._sock.settimeout(timeout_s)
        self._sock.sendall(data + END)

    def receive(self, deadline: float) -> bytes:
        """The next frame, or socket.timeout once `deadline` (on the client's clock) passes."""
        self._deadline = deadline
        return self._reader.read_frame()

    def _recv(self, size: int) -> bytes:
        remaining = self._deadline - self._clock()
        if remaining <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(remaining)
        return self._sock.recv(size)

    def closed_by_peer(self) -> bool:
        """Whether the ILS has closed this connection (an idle timeout), without waiting:
        bytes already there are kept for the next `receive`."""
        try:
            pending = self._sock.pending() if isinstance(self._sock, ssl.SSLSocket) else 0
            if not pending and not select.select([self._sock], [], [], 0)[0]:
                return False
            self._sock.settimeout(0)
            data = self._sock.recv(4096)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False  # readable, but only TLS housekeeping so far
        except (OSError, ValueError):
            return True   # reset, or a socket already closed
        if not data:
            return True
        self._reader.feed(data)
        return False

    def close(self) -> None:
        try:
            self._sock.close()
        except OSError:
            pass
