"""CR-terminated SIP2 frames over a byte stream: pure apart from the `recv` it is given.

We send CR only. Replies may end in CRLF (Koha does unless told otherwise), so an LF at the
start of a frame is the previous frame's and is dropped; empty frames are skipped; a frame
longer than `max_length` is refused rather than buffered without end.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.sip2.errors import IlsProtocolError

END = b"\r"
MAX_FRAME = 64 * 1024  # a 64 listing hundreds of loans stays well under this


class StreamClosed(EOFError):
    """The other side closed the connection (possibly in the middle of a frame)."""


class FrameTooLong(IlsProtocolError):
    """No CR within `max_length` bytes: not SIP2, or a broken server."""


class FrameReader:
    """Reads frames from `recv(n) -> bytes` (a socket's recv: b"" at the end of the stream).
    With `tolerant=False` (the strict test server) frames come back exactly as received, LF
    included, for the caller to judge."""

    def __init__(self, recv: Callable[[int], bytes], *, max_length: int = MAX_FRAME,
                 tolerant: bool = True) -> None:
        self._recv = recv
        self._buffer = bytearray()
        self.max_length = max_length
        self.tolerant = tolerant

    def feed(self, data: bytes) -> None:
        """Bytes already read from the stream (by a check that the peer is still there)."""
        self._buffer += data

    def read_frame(self) -> bytes:
        """The next frame without its CR; raises StreamClosed, FrameTooLong, or whatever
        `recv` raises (socket.timeout)."""
        while True:
            end = self._buffer.find(END)
            while end == -1:
                if len(self._buffer) > self.max_length:
                    self._buffer.clear()
                    raise FrameTooLong(f"no end of message within {self.max_length} bytes")
                data = self._recv(4096)
                if not data:
                    raise StreamClosed("connection closed by the other side")
                self._buffer += data
                end = self._buffer.find(END)
            frame = bytes(self._buffer[:end])
            del self._buffer[:end + 1]
            if self.tolerant:
                frame = frame.lstrip(b"\n")
                if not frame:
                    continue
            if len(frame) > self.max_length:
                raise FrameTooLong(f"message longer than {self.max_length} bytes")
            return frame
