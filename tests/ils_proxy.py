"""`IlsProxy`: a real TCP proxy on 127.0.0.1 between a SIP2 client and an ILS, that breaks
replies on purpose after the ILS has acted on the request.

For tests (of the client here, and of the whole kiosk end to end): point `[ils]` at
`proxy.address` instead of the ILS. Each client connection gets its own connection to the
ILS and two relay threads (client -> ILS, ILS -> client), frame by frame (CR-terminated).

`proxy.fault_after("11", ProxyFault.GARBAGE)` arms a fault for the next request with that
command code: the request is forwarded to the ILS as it is, the ILS's reply (the proof that
it acted) is then replaced by the fault, and so is every reply to the client's resend
requests (97) that follow on that connection, so resending never brings the reply back.
`refuse_connections()` closes the listening port (new connections are refused, open ones
carry on), so after a fault the client cannot ask the ILS what happened; `accept_connections()`
listens again on the same port. `history` records each request forwarded and the fault, if
any, applied to its reply; `injected` counts the replies replaced.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from enum import StrEnum

from kiosk.sip2.codec import checksum
from kiosk.sip2.framing import FrameReader, FrameTooLong, StreamClosed

log = logging.getLogger(__name__)

CR = b"\r"
TOO_LONG_BYTES = 70 * 1024  # past the client's 64 KB frame limit


class ProxyFault(StrEnum):
    GARBAGE = "garbage"          # bytes that are not SIP2 at all
    TOO_LONG = "too_long"        # one line of 70 KB, past the 64 KB frame limit
    UNDECODABLE = "undecodable"  # the reply's code, then bytes invalid in UTF-8 and GBK,
                                 # with a correct checksum: well framed, unreadable
    BAD_CHECKSUM = "bad_checksum"  # the reply with a wrong checksum
    SILENCE = "silence"          # no reply at all: the client times out
    DROP = "drop"                # both connections closed instead of the reply


@dataclass(frozen=True)
class Forwarded:
    code: str                    # the request's command code ("11", "97", ...)
    fault: ProxyFault | None     # what replaced its reply


class _Link:
    """One client connection and its connection to the ILS."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.fault: ProxyFault | None = None   # replaces replies while set
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class IlsProxy:
    def __init__(self, upstream: tuple[str, int], *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.upstream = upstream
        self.host = host
        self._port = port
        self._lock = threading.Lock()
        self._armed: list[tuple[str, ProxyFault]] = []
        self._history: list[Forwarded] = []
        self._links: set[_Link] = set()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self.injected = 0

    # --- life -----------------------------------------------------------------------------

    def start(self) -> IlsProxy:
        self.accept_connections()
        return self

    def stop(self) -> None:
        self.refuse_connections()
        with self._lock:
            links, self._links = self._links, set()
        for link in links:
            link.close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> IlsProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self._port

    @property
    def history(self) -> list[Forwarded]:
        with self._lock:
            return list(self._history)

    def codes(self) -> list[str]:
        return [entry.code for entry in self.history]

    # --- control --------------------------------------------------------------------------

    def fault_after(self, code: str, fault: ProxyFault, *, times: int = 1) -> None:
        """Break the reply to the next `times` requests with command `code`."""
        with self._lock:
            self._armed += [(code, ProxyFault(fault))] * times

    def refuse_connections(self) -> None:
        """Close the port: new connections are refused; open ones carry on."""
        with self._lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            except OSError:
                pass
            listener.close()

    def accept_connections(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            self._listener = socket.create_server((self.host, self._port))
            self._port = self._listener.getsockname()[1]
            listener = self._listener
        self._spawn(self._accept, listener)

    # --- relaying -------------------------------------------------------------------------

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True,
                                  name=f"ils-proxy:{self._port}")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # refused or stopped
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError as e:
                log.info("ils proxy: cannot reach the ILS (%s); closing the client", e)
                client.close()
                continue
            link = _Link(client, upstream)
            with self._lock:
                self._links.add(link)
            self._spawn(self._requests, link)
            self._spawn(self._replies, link)

    def _requests(self, link: _Link) -> None:
        """Client -> ILS: note each request's code and arm the link's fault before the ILS
        can answer."""
        reader = FrameReader(link.client.recv, tolerant=False)
        try:
            while not link.closed.is_set():
                frame = reader.read_frame()
                code = frame.lstrip(b"\n")[:2].decode("ascii", errors="replace")
                with self._lock:
                    if code != "97":
                        link.fault = self._take(code)
                    self._history.append(Forwarded(code, link.fault))
                link.upstream.sendall(frame + CR)
        except (StreamClosed, FrameTooLong, OSError):
            pass
        finally:
            self._end(link)

    def _replies(self, link: _Link) -> None:
        """ILS -> client: each reply forwarded, or replaced while the link's fault is set."""
        reader = FrameReader(link.upstream.recv, tolerant=False, max_length=10 * 1024 * 1024)
        try:
            while not link.closed.is_set():
                frame = reader.read_frame()
                with self._lock:
                    fault = link.fault
                    if fault is not None:
                        self.injected += 1
                if fault is ProxyFault.DROP:
                    log.info("ils proxy: dropping the connection instead of the reply")
                    break
                if fault is not ProxyFault.SILENCE:
                    link.client.sendall(_replaced(frame, fault) + CR)
        except (StreamClosed, FrameTooLong, OSError):
            pass
        finally:
            self._end(link)

    def _take(self, code: str) -> ProxyFault | None:
        for n, (armed_code, fault) in enumerate(self._armed):
            if armed_code == code:
                del self._armed[n]
                return fault
        return None

    def _end(self, link: _Link) -> None:
        link.close()
        with self._lock:
            self._links.discard(link)


def _replaced(frame: bytes, fault: ProxyFault | None) -> bytes:
    if fault is None:
        return frame
    if fault is ProxyFault.GARBAGE:
        return b"\x00\xffHTTP/1.1 400 Bad Request"
    if fault is ProxyFault.TOO_LONG:
        return frame[:2] + b"X" * TOO_LONG_BYTES
    if fault is ProxyFault.BAD_CHECKSUM:
        return frame[:-4] + (b"0000" if frame[-4:] != b"0000" else b"FFFF")
    # UNDECODABLE: 0xFF starts no character in UTF-8 or GBK; the checksum still fits.
    body = frame[:2] + b"\xff" * 40 + b"AY" + _seq_of(frame) + b"AZ"
    return body + checksum(body).encode("ascii")


def _seq_of(frame: bytes) -> bytes:
    at = frame.rfind(b"AY")
    return frame[at + 2:at + 3] if at >= 0 and frame[at + 2:at + 3].isdigit() else b"0"
