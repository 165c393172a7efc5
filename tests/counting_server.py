"""A small central server for the uploader's tests, on 127.0.0.1 port 0 in a thread: it keeps
the counts contract (a batch counted once by id, an overlapping range refused with 409, a bad
token 401) and misbehaves on cue, one scripted fault per request.

Faults, taken in order from `script` by each POST to /api/v1/counts (other paths always answer):
"drop" (read the request, close without answering), "500", "503", "429:<seconds>" and
"503:<seconds or HTTP date>" (with Retry-After), "401", "slow" (accept and count the batch,
then answer only after `release` is set, so the client's read timeout fires after the server
counted), "ok". An empty script answers ok.
Every request body is kept as raw bytes, so tests can search them for what must never be sent.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-token-kiosk-1-0123456789abcdefghijklmnopqrstu"


class CountingServer:
    def __init__(self, script: list[str] | None = None, token: str = TOKEN) -> None:
        self.script = list(script or [])
        self.token = token
        self.bodies: list[tuple[str, bytes]] = []  # (path, raw body) of every request
        self.batches: dict[str, tuple[int, int]] = {}  # batch_id -> seq range
        self.totals: Counter = Counter()  # event -> n
        self.cells: Counter = Counter()  # (date, hour, event, outcome, key) -> n
        self.heartbeats: list[dict] = []
        self.catalogues: list[dict] = []
        self.answers: list[str] = []  # what each counts request got: "ok", "duplicate", a fault
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.on_accept = None  # called with the batch after it is counted, before the answer
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> CountingServer:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._http.shutdown()
        self._http.server_close()

    def next_fault(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else "ok"

    def accept(self, body: dict) -> tuple[int, dict]:
        with self.lock:
            batch_id, first, last = body["batch_id"], body["first_seq"], body["last_seq"]
            if batch_id in self.batches:
                self.answers.append("duplicate")
                return 200, {"batch_id": batch_id, "duplicate": True}
            for other, (a, b) in self.batches.items():
                if a <= last and first <= b:
                    self.answers.append("conflict")
                    return 409, {"detail": f"rows overlap batch {other}"}
            if len(body["counts"]) > 5000:
                return 413, {"detail": "too many counts"}
            self.batches[batch_id] = (first, last)
            for c in body["counts"]:
                self.totals[c["event"]] += c["n"]
                self.cells[(c["date"], c["hour"], c["event"], c["outcome"], c["key"])] += c["n"]
            self.answers.append("ok")
        if self.on_accept:
            self.on_accept(body)
        return 200, {"batch_id": batch_id, "duplicate": False}


def _handler(server: CountingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/api/v1/health":
                self._answer(200, {"ok": True, "version": "test"})
            else:
                self._answer(404, {"detail": "not found"})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            server.bodies.append((self.path, raw))
            if self.headers.get("Authorization") != f"Bearer {server.token}":
                self._answer(401, {"detail": "no or bad token"})
                return
            body = json.loads(raw)
            if self.path == "/api/v1/heartbeat":
                server.heartbeats.append(body)
                self._answer(200, {"ok": True, "server_time_utc": "2026-11-24T06:00:00Z"})
            elif self.path == "/api/v1/catalogue":
                server.catalogues.append(body)
                self._answer(200, {"ok": True})
            elif self.path == "/api/v1/counts":
                self._counts(body)
            else:
                self._answer(404, {"detail": "not found"})

        def _counts(self, body: dict) -> None:
            fault = server.next_fault()
            if fault != "ok":
                server.answers.append(fault)
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
            elif fault in ("500", "503", "401"):
                self._answer(int(fault), {"detail": f"scripted {fault}"})
            elif fault.startswith(("429", "503:")):  # overloaded: come back after a while
                code, _, after = fault.partition(":")
                self._answer(int(code), {"detail": "slow down"}, {"Retry-After": after or "1"})
            elif fault == "slow":
                code, answer = server.accept(body)
                server.release.wait(30)
                try:
                    self._answer(code, answer)
                except OSError:
                    pass  # the client gave up long ago, as intended
            else:
                self._answer(*server.accept(body))

        def _answer(self, code: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
