"""`HttpProxy`: a real TCP proxy on 127.0.0.1 in front of an HTTP server (the central server),
for a village link: it throttles what the server sends, cuts the connection in the middle of a
file on cue, and can hide a path (answering 404 itself, as a server without that endpoint).

Each client connection gets its own connection upstream and two relay threads. The client's
side is read request by request (head only: the kiosk's GETs have no body), so every request
is recorded (`requests`: method, path, Range header) and the cut applies to the answer of the
request that armed it. `cut_file_after(n, times)`: the next `times` answers to a GET of a
`/file` path are cut after `n` bytes (headers included); `bytes_per_s` throttles every answer.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

CHUNK = 16 * 1024
NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
             b"Content-Length: 22\r\n\r\n{\"detail\":\"Not Found\"}")


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    range: str | None
    cut: bool  # its answer was cut


class _Link:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self.cut_after: int | None = None  # for the answer now on its way
        self.sent = 0

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class HttpProxy:
    def __init__(self, upstream_url: str, *, bytes_per_s: float | None = None) -> None:
        host, port = upstream_url.removeprefix("http://").rstrip("/").split(":")
        self.upstream = (host, int(port))
        self.bytes_per_s = bytes_per_s
        self.hidden: set[str] = set()
        self._cuts: list[int] = []
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> HttpProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            links, self._links = set(self._links), set()
        for link in links:
            link.close()

    def cut_file_after(self, n: int, times: int = 1) -> None:
        with self._lock:
            self._cuts += [n] * times

    @property
    def requests(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def files(self) -> list[Seen]:
        return [s for s in self.requests if s.path.endswith("/file")]

    # --- relaying -------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            link = _Link(client, socket.create_connection(self.upstream))
            with self._lock:
                self._links.add(link)
            threading.Thread(target=self._requests, args=(link,), daemon=True).start()
            threading.Thread(target=self._answers, args=(link,), daemon=True).start()

    def _requests(self, link: _Link) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = link.client.recv(CHUNK)
                    if not data:
                        return link.close()
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, path = lines[0].split(" ")[:2]
                headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
                with self._lock:
                    cut = (self._cuts.pop(0) if self._cuts and method == "GET"
                           and path.endswith("/file") else None)
                    self._seen.append(Seen(method, path, headers.get("Range"), cut is not None))
                if path in self.hidden:
                    link.client.sendall(NOT_FOUND)
                    continue
                link.cut_after, link.sent = cut, 0
                link.upstream.sendall(head + b"\r\n\r\n")
        except OSError:
            link.close()

    def _answers(self, link: _Link) -> None:
        try:
            while data := link.upstream.recv(CHUNK):
                if link.cut_after is not None and link.sent + len(data) >= link.cut_after:
                    link.client.sendall(data[:link.cut_after - link.sent])
                    return link.close()  # the cable pulled mid-file
                link.sent += len(data)
                link.client.sendall(data)
                if self.bytes_per_s:
                    time.sleep(len(data) / self.bytes_per_s)
        except OSError:
            pass
        link.close()
