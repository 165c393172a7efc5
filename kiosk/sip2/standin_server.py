"""`Sip2TestServer`: a small SIP2 ILS on a TCP port, for the demo, the tests and technicians.

Shipped code, not test code. It listens on its own thread and serves each connection on
another; the library's state (`standin_data.IlsData`, answered by `standin_ils.Library`) changes
under one lock. It is strict about framing and checksums (a stray LF, a missing or wrong
checksum, a malformed request: answered with 96 and noted in `protocol_errors`), records every
message it received (`history`), and has faults on demand (`faults`). Some options mimic
quirks of other real servers (SIPServer, which Koha and Evergreen use): CQ only when a PIN
was sent (`pin_check`), a 97 answered with the last reply renumbered (`renumber_resends`),
an SC status that reports a policy it does not enforce (`policy`), idle links closed
(`idle_timeout_s`).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kiosk.sip2.codec import Message, decode, encode, message, render
from kiosk.sip2.errors import IlsProtocolError
from kiosk.sip2.framing import FrameReader, FrameTooLong, StreamClosed
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_ils import IMPLEMENTED, Library, PinCheck, ScPolicy, problems

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 300.0  # by default, a client that says nothing for this long is dropped


@dataclass(frozen=True)
class _Fault:
    action: str        # see Faults
    code: str | None   # only for this request code; None: the next request of any kind
    seconds: float = 0.0


class Faults:
    """Faults on demand, each for the next request (of `code`, when given):
    - `drop_reply`: carry it out, do not send the reply (97 still gets it);
    - `lose_reply`: carry it out, then close the connection without a reply;
    - `ignore`: neither carry it out nor answer (the request was lost on the way);
    - `close`: close the connection before carrying it out;
    - `corrupt_checksum`: send the reply with a wrong checksum (97 gets a good one);
    - `garble`: send bytes that are not SIP2;
    - `delay(seconds)`: send the reply that much later.
    `refuse_logins = True` answers every login with ok=0; `go_away()` closes the port and
    every connection, `come_back()` listens again on the same port."""

    ACTIONS = ("drop_reply", "lose_reply", "ignore", "close", "corrupt_checksum", "garble")

    def __init__(self, server: Sip2TestServer) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._pending: list[_Fault] = []
        self.refuse_logins = False

    def next(self, action: str, *, code: str | None = None, times: int = 1) -> None:
        if action not in self.ACTIONS:
            raise ValueError(f"unknown fault {action!r}; known: {', '.join(self.ACTIONS)}")
        with self._lock:
            self._pending += [_Fault(action, code)] * times

    def delay(self, seconds: float, *, code: str | None = None) -> None:
        with self._lock:
            self._pending.append(_Fault("delay", code, seconds))

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        self.refuse_logins = False

    def take(self, code: str) -> _Fault | None:
        with self._lock:
            for n, fault in enumerate(self._pending):
                if fault.code in (None, code):
                    return self._pending.pop(n)
        return None

    def go_away(self) -> None:
        self._server._go_away()

    def come_back(self) -> None:
        self._server._listen()


class _Session:
    def __init__(self) -> None:
        self.logged_in = False
        # The last reply as sent, and as a message to renumber it; None before the first.
        self.last_reply: tuple[bytes, Message] | None = None


class Sip2TestServer:
    def __init__(self, data: IlsData, host: str = "127.0.0.1", port: int = 0, *,
                 charset: str = "utf-8", strict: bool = True,
                 supported: Iterable[str] | None = None, blank_dates_ok: bool = True,
                 tls: ssl.SSLContext | None = None,
                 pin_check: PinCheck = PinCheck.WHEN_SENT, policy: ScPolicy = ScPolicy(),
                 renumber_resends: bool = False,
                 idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        """`supported`: the messages BX admits to (default: all it implements; a message not
        admitted is noted in `protocol_errors` and never answered). `blank_dates_ok=False`
        rejects 18 blanks as a due date, as some servers do. `tls`: a server-side context.
        `pin_check`: when patron replies carry CQ. `policy`: what 98 reports (not enforced).
        `renumber_resends`: a 97 gets the last reply with the 97's sequence number, which it
        lacks, so AY0, as SIPServer does. `idle_timeout_s`: a connection idle this long is
        closed (counted in `idle_closed`)."""
        self.data = data
        self.host = host
        self.charset = charset
        self.strict = strict
        self.blank_dates_ok = blank_dates_ok
        self.renumber_resends = renumber_resends
        self.idle_timeout_s = idle_timeout_s
        self.idle_closed = 0
        self.library = Library(data, supported=frozenset(supported) if supported is not None
                               else IMPLEMENTED, pin_check=pin_check, policy=policy)
        self.faults = Faults(self)
        self._port = port
        self._tls = tls
        self._lock = threading.Lock()
        self._history: list[Message] = []
        self._errors: list[str] = []
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()

    # --- life -----------------------------------------------------------------------------

    def start(self) -> Sip2TestServer:
        self._stopped.clear()
        self._listen()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._go_away()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> Sip2TestServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self._port

    @property
    def login(self) -> tuple[str, str] | None:
        """The first SIP2 account of the data file (username, password), if it has any."""
        return next(iter(self.data.accounts.items()), None)

    @property
    def history(self) -> list[Message]:
        """Every message received, in order (all connections)."""
        with self._lock:
            return list(self._history)

    @property
    def protocol_errors(self) -> list[str]:
        with self._lock:
            return list(self._errors)

    def _listen(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            self._listener = socket.create_server((self.host, self._port))
            self._port = self._listener.getsockname()[1]
            listener = self._listener
        thread = threading.Thread(target=self._accept, args=(listener,),
                                  name=f"sip2-test-server:{self._port}", daemon=True)
        self._threads.append(thread)
        thread.start()
        log.info("test ILS listening on %s:%s", self.host, self._port)

    def _go_away(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        for sock in ([listener] if listener else []) + list(connections):
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept/recv
            except OSError:
                pass
            sock.close()

    # --- connections ----------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return  # closed by go_away/stop
            with self._lock:
                if self._listener is not listener:
                    sock.close()
                    return
                self._connections.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True,
                                      name=f"sip2-test-connection:{self._port}")
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(self.idle_timeout_s)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_side=True)
                with self._lock:
                    self._connections.add(sock)
            reader = FrameReader(sock.recv, tolerant=not self.strict)
            session = _Session()
            while not self._stopped.is_set():
                if not self._handle(reader.read_frame(), session, sock):
                    break
        except TimeoutError:
            log.info("test ILS: closing a connection idle for %g s", self.idle_timeout_s)
            with self._lock:
                self.idle_closed += 1
        except (StreamClosed, OSError):
            pass
        except FrameTooLong as e:
            self._error(str(e))
        finally:
            with self._lock:
                self._connections.discard(sock)
            sock.close()

    def _handle(self, frame: bytes, session: _Session, sock: socket.socket) -> bool:
        """Answer one frame; False closes the connection."""
        if b"\n" in frame:
            self._error(f"stray LF in a request: {frame[:60]!r}")
            return self._send(sock, self._resend_request())
        try:
            request = decode(frame, charset=self.charset)
        except IlsProtocolError as e:
            self._error(str(e))
            return self._send(sock, self._resend_request())
        with self._lock:
            self._history.append(request)
        if request.checksum_ok is False or (self.strict and request.checksum is None):
            self._error(f"{request.code}: {'wrong' if request.checksum else 'no'} checksum")
            return self._send(sock, self._resend_request())
        if request.code == "97":
            return self._send(sock, self._last_reply_again(session))
        if request.code not in ("93", "99") and request.code not in self.library.supported:
            self._error(f"{request.code}: sent although BX does not admit it")
            return True
        found = problems(request, blank_dates_ok=self.blank_dates_ok)
        if found and self.strict:
            for problem in found:
                self._error(problem)
            return self._send(sock, self._resend_request())
        if self.data.accounts and not session.logged_in and request.code != "93":
            self._error(f"{request.code}: before a login")
            return False
        fault = self.faults.take(request.code)
        action = fault.action if fault else ""
        if action == "close":
            return False
        if action == "ignore":
            return True
        with self._lock:
            if request.code == "93":
                ok = not self.faults.refuse_logins and self.library.login(
                    request.first("CN"), request.first("CO"))
                session.logged_in = ok
                reply = message("94", {"ok": "1" if ok else "0"})
            else:
                reply = self.library.answer(request)
        checksummed = request.checksum is not None
        data = encode(reply, charset=self.charset, seq=request.seq if checksummed else None,
                      with_checksum=checksummed and (request.seq is not None))
        session.last_reply = data, reply
        log.debug("test ILS: %s -> %s", render(request, mask_patron=True),
                  render(reply, mask_patron=True))
        if action == "drop_reply":
            return True
        if action == "lose_reply":
            return False
        if action == "corrupt_checksum":
            data = data[:-1] + (b"0" if data[-1:] != b"0" else b"1")
        if action == "garble":
            data = b"\xff\xfe garbage"
        if fault is not None and action == "delay" and self._stopped.wait(fault.seconds):
            return False
        return self._send(sock, data)

    def _last_reply_again(self, session: _Session) -> bytes:
        if session.last_reply is None:
            return self._resend_request()
        sent, reply = session.last_reply
        if self.renumber_resends and sent[-6:-4] == b"AZ":
            return encode(reply, charset=self.charset, seq=0, with_checksum=True)
        return sent

    def _resend_request(self) -> bytes:
        return encode(message("96"), charset=self.charset, seq=None, with_checksum=True)

    def _send(self, sock: socket.socket, data: bytes) -> bool:
        sock.sendall(data + b"\r")
        return True

    def _error(self, text: str) -> None:
        log.warning("test ILS: %s", text)
        with self._lock:
            self._errors.append(text)


def start_demo_ils(data_path: str | Path) -> Sip2TestServer:
    """The demo's ILS on a free 127.0.0.1 port, started; point `[ils]` at `server.address`
    and log in with `server.login`."""
    return Sip2TestServer(IlsData.load(data_path)).start()
