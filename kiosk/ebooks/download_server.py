"""The small download server a kiosk runs on the library network when it serves e-books itself.

`GET|HEAD /d/<id>?k=&e=&s=` (contract "QR download link"): the link's signature and expiry are
checked, the title must be in the current catalogue and licensed today, then the file is sent
with its type, its Chinese name, and single byte ranges so that a phone can resume. Anything
else gets a short bilingual page a phone can read. `current` is resolved once per request, so
a batch applied mid-download does not change the file already being sent.

Conditional requests follow RFC 9110 (kiosk.ebooks.conditional): the current ETag in
`If-None-Match` gets 304, and a resume whose `If-Range` names another edition gets the whole
new file, never a splice of two.

A download counts once per link, when the bytes written for that link (and that edition of the
file) cover the whole file, whatever the order and overlap of the ranges
(kiosk.ebooks.coverage); fetching the same link again does not count again.
`on_download(id, "ok", 1)` runs on the request's thread. Refused links are counted in memory
and reported as `on_download("", reason, count)` at most once a minute per reason (the first
after a quiet minute at once, the rest of a burst when its minute is over, on the server's
"refusals" thread, and what is left at `stop()`): anyone on the library Wi-Fi can send
thousands of bad links a second, and each report becomes an fsynced journal row.

A good link opened in a chat app's own browser (WeChat's, QQ's: kiosk.ebooks.in_app_page),
which cannot save a file, gets a page that sends the patron to a real browser instead of the
file, and is reported once per link as `on_download(id, "in_app_browser", 1)`: not a download,
but a figure of its own for staff. Only links the kiosk signed get that far, so once per link
bounds the rows as downloads are bounded.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlsplit

from content.catalogue import Catalogue
from content.errors import ContentError
from content.title import FORMATS, Title
from kiosk.ebooks.byte_ranges import Unsatisfiable, byte_range
from kiosk.ebooks.conditional import http_date, not_modified, range_allowed
from kiosk.ebooks.coverage import Coverage
from kiosk.ebooks.in_app_page import in_app_browser, in_app_page
from kiosk.ebooks.links import LinkSigner, link_fields
from kiosk.ebooks.refusal_page import refusal_page

log = logging.getLogger(__name__)
CLIENT_TIMEOUT_S = 30  # a silent or stalled phone frees its thread after this
CHUNK = 64 * 1024
REFUSAL_WINDOW_S = 60.0  # at most one report per reason in this long
REFUSALS = {"expired": HTTPStatus.GONE, "bad signature": HTTPStatus.FORBIDDEN,
            "other kiosk": HTTPStatus.FORBIDDEN, "malformed": HTTPStatus.FORBIDDEN,
            "not found": HTTPStatus.NOT_FOUND}
IN_APP_BROWSER = "in_app_browser"  # the outcome of a good link opened in a chat app
REPORTED_AT_ONCE = frozenset({"ok", IN_APP_BROWSER})  # once per link, with the title


class RefusalTally:
    """Refused requests counted per reason; `add()` says when one should be reported at once,
    `due()` what a closed window holds. Thread-safe; `now` is a monotonic clock in seconds."""

    def __init__(self, window_s: float = REFUSAL_WINDOW_S) -> None:
        self.window_s = window_s
        self._lock = threading.Lock()
        self._waiting: dict[str, int] = {}  # reason -> refusals not reported yet
        self._reported_at: dict[str, float] = {}  # reason -> when it was last reported

    def add(self, reason: str, now: float) -> tuple[int | None, bool]:
        """Count one refusal: (the count to report now, or None when it waits for its window
        to close; whether it is the first of its reason to wait)."""
        with self._lock:
            waiting = self._waiting.pop(reason, 0) + 1
            last = self._reported_at.get(reason)
            if last is None or now - last >= self.window_s:
                self._reported_at[reason] = now
                return waiting, False
            self._waiting[reason] = waiting
            return None, waiting == 1

    def due(self, now: float) -> list[tuple[str, int]]:
        """(reason, count) for each reason whose window is over with refusals waiting."""
        with self._lock:
            ready = [reason for reason in self._waiting
                     if now - self._reported_at[reason] >= self.window_s]
            for reason in ready:
                self._reported_at[reason] = now
            return [(reason, self._waiting.pop(reason)) for reason in ready]

    def next_due(self) -> float | None:
        """When the next waiting report is due (monotonic seconds), or None."""
        with self._lock:
            return min((self._reported_at[r] + self.window_s for r in self._waiting),
                       default=None)

    def drain(self) -> list[tuple[str, int]]:
        """Everything still waiting, whatever its window: at stop, so that no refusal is lost."""
        with self._lock:
            left, self._waiting = list(self._waiting.items()), {}
            return left


class DownloadServer:
    def __init__(self, signer: LinkSigner, catalogue_root: Path,
                 on_download: Callable[[str, str, int], None], host: str = "0.0.0.0",
                 port: int = 8080, today: Callable[[], str] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 refusal_window_s: float = REFUSAL_WINDOW_S) -> None:
        self.signer = signer
        self.catalogue_root = Path(catalogue_root)
        self.on_download = on_download
        self.host, self.port = host, port
        self.today = today or (lambda: dt.date.today().isoformat())
        self.clock = clock
        self.refusals = RefusalTally(refusal_window_s)
        self.coverage = Coverage()
        self.in_app_seen = Coverage()  # links whose in-app page was shown: each counts once
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._reporter: threading.Thread | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self.error: str | None = None  # why start() could not listen

    @property
    def listening(self) -> bool:
        return self._http is not None

    def start(self) -> None:
        """Returns once the socket listens (`.port` is then the real one, also for port 0).
        Raises OSError when it cannot (a port taken by another program), and keeps why in
        `.error` for the status check."""
        try:
            self._http = _Server((self.host, self.port), _Handler)
        except OSError as e:
            self.error = e.strerror or str(e)
            raise
        self.error = None
        self._http.app = self
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="downloads", daemon=True)
        self._thread.start()
        self._stopping = False
        self._reporter = threading.Thread(target=self._report_refusals, name="refusals",
                                          daemon=True)
        self._reporter.start()
        log.info("serving e-book downloads on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._reporter is not None:
            with self._wake:
                self._stopping = True
                self._wake.notify()
            self._reporter.join()
            self._reporter = None
        for reason, count in self.refusals.drain():
            self._report("", reason, count)

    def _report_refusals(self) -> None:
        """The "refusals" thread: reports each burst's count when its window is over."""
        with self._wake:
            while not self._stopping:
                due = self.refusals.next_due()
                self._wake.wait(None if due is None else max(0.0, due - self.clock()))
                if self._stopping:
                    return
                for reason, count in self.refusals.due(self.clock()):
                    self._report("", reason, count)

    # --- one request (a handler thread) ---------------------------------------------------

    def find(self, book_id: str) -> tuple[Title, Path] | None:
        """The title licensed today in the version `current` points to now, and that folder."""
        current = self.catalogue_root / "current"
        if not current.exists():
            return None
        folder = Path(os.path.realpath(current))
        try:
            catalogue = Catalogue.open(folder)  # one open per request: about 0.2 ms
        except ContentError as e:
            log.error("download refused, the catalogue cannot be read: %s", e)
            return None
        try:
            title = catalogue.get(book_id, self.today())
        finally:
            catalogue.close()
        return (title, folder) if title else None

    def counted(self, book_id: str, outcome: str) -> None:
        """A download ("ok") or an in-app browser's visit is reported at once; a refusal is
        tallied (see the module)."""
        if outcome in REPORTED_AT_ONCE:
            self._report(book_id, outcome, 1)
            return
        count, first_waiting = self.refusals.add(outcome, self.clock())
        if count is not None:
            self._report("", outcome, count)
        elif first_waiting:
            with self._wake:  # the reporter may be asleep with no window to watch
                self._wake.notify()

    def _report(self, book_id: str, outcome: str, count: int) -> None:
        try:
            self.on_download(book_id, outcome, count)
        except Exception:  # the count is lost, never the server
            log.exception("recording the download of %s (%s) failed", book_id or "-", outcome)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: DownloadServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = CLIENT_TIMEOUT_S
    protocol_version = "HTTP/1.1"
    server_version = "kiosk-downloads"
    sys_version = ""
    # Per request, set in handle_one_request: for its log line.
    _started: float
    _sent: int  # body bytes sent
    _status: int | None  # the status answered; None before the answer

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, body: bool) -> None:
        try:
            self._answer(body)
        except Exception:  # a bug must still give the phone an answer, and spare the server
            log.exception("the download request %r failed", urlsplit(self.path).path[:200])
            self.close_connection = True
            if self._status is None:
                self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "bad request", body)

    def _answer(self, body: bool) -> None:
        app = self.server.app
        fields = link_fields(self.path)
        if fields is None:
            return self._refuse(HTTPStatus.NOT_FOUND, "not found", body)
        book_id, kiosk_id, expiry, signature = fields
        reason = app.signer.check(book_id, kiosk_id, expiry, signature, time.time())
        found = app.find(book_id) if reason is None else None
        if found is None:
            reason = reason or "not found"
            if body:
                app.counted(book_id, reason)
            return self._refuse(REFUSALS[reason], reason, body)
        title, folder = found
        app_name = in_app_browser(self.headers.get("User-Agent"))
        if app_name is not None and (folder / title.file).is_file():  # else the 404 page
            return self._send_in_app_page(title, int(expiry), app_name, body, signature.lower())
        self._send_file(title, folder / title.file, body, signature.lower())

    def _send_file(self, title: Title, path: Path, body: bool, link: str) -> None:
        try:
            f = open(path, "rb")
        except OSError as e:
            log.error("the file of %s cannot be opened: %s", title.id, e)
            return self._refuse(HTTPStatus.NOT_FOUND, "not found", body)
        with f:
            stat = os.fstat(f.fileno())
            size, etag = stat.st_size, f'"{title.sha256}"'
            if not_modified(self.headers.get("If-None-Match"),
                            self.headers.get("If-Modified-Since"), etag, stat.st_mtime):
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self._validators(etag, stat.st_mtime)
                self.end_headers()
                return
            asked = self.headers.get("Range")
            if not range_allowed(self.headers.get("If-Range"), etag, stat.st_mtime, time.time()):
                asked = None  # another edition than the phone holds: the whole file
            try:
                wanted = byte_range(asked, size)
            except Unsatisfiable:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            first, last = wanted or (0, size - 1)
            self.send_response(HTTPStatus.PARTIAL_CONTENT if wanted else HTTPStatus.OK)
            if wanted:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.send_header("Content-Type", FORMATS.get(title.format, "application/octet-stream"))
            self.send_header("Content-Length", str(last - first + 1))
            self.send_header("Content-Disposition", _disposition(title))
            self.send_header("Accept-Ranges", "bytes")
            self._validators(etag, stat.st_mtime)
            self.end_headers()
            if not body:
                return
            f.seek(first)
            left = last - first + 1
            try:
                while left > 0:
                    chunk = f.read(min(CHUNK, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    self._sent += len(chunk)
                    left -= len(chunk)
                self.wfile.flush()
            except OSError:  # the phone went away: what it got may be resumed
                log.info("download of %s aborted after %d bytes", title.id, self._sent)
                self.close_connection = True
        # Per link and edition: a resume after a batch update starts a new coverage.
        if self.server.app.coverage.add((link, etag), first, first + self._sent - 1, size):
            self.server.app.counted(title.id, "ok")

    def _send_in_app_page(self, title: Title, expiry: int, app_name: str, body: bool,
                          link: str) -> None:
        page = in_app_page(title.title, expiry, time.time(), app_name)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Vary", "User-Agent")  # the same link is the file in a browser
        self.end_headers()
        if not body:
            return
        self.wfile.write(page)
        self._sent = len(page)
        # A whole one-byte "file" per link: True once, with Coverage's bounded memory.
        if self.server.app.in_app_seen.add(link, 0, 0, 1):
            self.server.app.counted(title.id, IN_APP_BROWSER)

    def _validators(self, etag: str, modified: float) -> None:
        """What a 200, a 206 and a 304 all carry (RFC 9110 §15.4.5)."""
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", http_date(modified))
        self.send_header("Cache-Control", "private, no-store")

    def _refuse(self, status: HTTPStatus, reason: str, body: bool) -> None:
        page = refusal_page(reason)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(page)
            self._sent = len(page)

    def send_error(self, code, message=None, explain=None) -> None:
        # Bad request lines, unknown methods, huge headers: our page, never a traceback.
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.0"  # a garbled line still gets a status line
        self.send_response(code)
        page = refusal_page("bad request")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in (204, 304):
            self.wfile.write(page)

    def handle_one_request(self) -> None:
        self._started, self._sent, self._status = time.monotonic(), 0, None
        super().handle_one_request()
        if self._status is not None:  # one line per answer, once its body is sent
            log.info("%s %s %s %s %d bytes %.0f ms", self.client_address[0],
                     getattr(self, "command", None) or "-",
                     urlsplit(getattr(self, "path", "-")).path, self._status, self._sent,
                     (time.monotonic() - self._started) * 1000)

    def send_response(self, code, message=None) -> None:
        self._status = int(code)
        super().send_response(code, message)

    def log_request(self, code="-", size="-") -> None:
        pass  # handle_one_request writes the line, with the bytes sent

    def log_message(self, format: str, *args) -> None:
        log.debug("%s " + format, self.client_address[0], *args)


def _disposition(title: Title) -> str:
    """The Chinese file name for phones that read RFC 5987, the id for those that don't."""
    extension = "." + title.format
    return (f'attachment; filename="{title.id}{extension}"; '
            f"filename*=UTF-8''{quote(title.title + extension, safe='')}")
