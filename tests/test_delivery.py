"""The resumable downloader (kiosk.delivery) against a real HTTP server on 127.0.0.1 that
honours Range and If-Range and misbehaves on cue: a connection cut mid-file, a process killed
mid-file and started again, a file whose ETag changed, bytes that are not the release's, a
partition without room, and the bandwidth limit's schedule on an injected clock."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kiosk.delivery import download
from kiosk.delivery.download import Downloader, DownloadError, DownloadFailure, Target
from kiosk.delivery.throttle import RateLimit
from kiosk.upload.sender import Central, RetryPolicy
from tests import small_partition
from tests.conftest import ROOT

TOKEN = "delivery-test-token-0123456789abcdef"
FILE_PATH = "/api/v1/releases/7/file"


def payload(n: int, seed: int = 1) -> bytes:
    """Bytes that differ at every position, so a resume from the wrong offset shows."""
    out = bytearray()
    block = seed.to_bytes(4, "big")
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


@dataclass
class Served:
    body: bytes
    etag: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class Seen:
    path: str
    range: str | None
    if_range: str | None
    status: int
    authorization: str | None
    encoding: str | None = None


@dataclass
class ReleaseServer:
    """`files` path -> Served; `latest` the JSON body of /api/v1/updates/latest (None: 204 No
    Content, or `latest_status` when set: 404 from another server).
    `cut_after`: the next file answer sends that many body bytes, then closes the connection.
    `stall_after`: every file answer sends that many, then waits until `go` is set."""
    files: dict[str, Served] = field(default_factory=dict)
    latest: dict | None = None
    latest_status: int | None = None
    cut_after: int | None = None
    stall_after: int | None = None
    seen: list[Seen] = field(default_factory=list)
    go: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> ReleaseServer:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.go.set()
        self._http.shutdown()
        self._http.server_close()

    def publish(self, body: bytes, etag: str | None = None, path: str = FILE_PATH) -> Served:
        served = Served(body, etag or f'"{hashlib.sha256(body).hexdigest()}"')
        self.files[path] = served
        return served

    def file_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path in self.files]


def _handler(server: ReleaseServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._answer(401, b'{"detail": "unknown token"}')
            if self.path == "/api/v1/updates/latest":
                if server.latest_status is not None:
                    return self._answer(server.latest_status, b'{"detail": "Not Found"}')
                if server.latest is None:
                    return self._answer(204, b"")
                return self._answer(200, json.dumps(server.latest).encode())
            served = server.files.get(self.path)
            if served is None:
                return self._answer(404, b'{"detail": "no such release"}')
            body, status, headers = served.body, 200, {}
            asked = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if_range = self.headers.get("If-Range")
            if asked and (if_range is None or if_range == served.etag):
                start = int(asked[1])
                end = int(asked[2]) if asked[2] else len(body) - 1
                if start >= len(body):
                    return self._answer(416, b"", {"Content-Range": f"bytes */{len(body)}"})
                body, status = body[start:end + 1], 206
                headers["Content-Range"] = (f"bytes {start}-{start + len(body) - 1}"
                                            f"/{len(served.body)}")
            self._answer(status, body, {**headers, "ETag": served.etag, "Accept-Ranges": "bytes",
                                        "Content-Type": "application/octet-stream"})

        def _answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
            server.seen.append(Seen(self.path, self.headers.get("Range"),
                                    self.headers.get("If-Range"), status,
                                    self.headers.get("Authorization"),
                                    self.headers.get("Accept-Encoding")))
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            cut, server.cut_after = (server.cut_after, None) if status in (200, 206) else (None,
                                                                                   server.cut_after)
            stall = server.stall_after if status in (200, 206) else None
            if cut is not None:
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if stall is not None:
                self.wfile.write(body[:stall])
                self.wfile.flush()
                server.go.wait(60)
                body = body[stall:]
            self.wfile.write(body)

    return Handler


class Waits:
    """The central's and the rate limit's sleeps, recorded on a clock that moves only when
    slept: the schedule is checked without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def central(server: ReleaseServer, waits: Waits | None = None, retries: int = 3) -> Central:
    waits = waits or Waits()
    return Central(server.url, TOKEN, timeout=(5, 10),
                   policy=RetryPolicy(retries=retries, backoff_s=0.0, budget_s=60),
                   sleep=waits.sleep, clock=waits.clock)


def target_for(served: Served, name: str = "kiosk-0.3.0-arm64.raucb") -> Target:
    return Target(FILE_PATH, len(served.body), served.sha256, name)


def downloader(folder: Path, server: ReleaseServer, *, limit: RateLimit | None = None,
               reserve: int = 0, retries: int = 3, **kwargs) -> Downloader:
    return Downloader(folder, central(server, retries=retries), limit=limit or RateLimit(None),
                      reserve_bytes=reserve, sync_every=8192, **kwargs)


def test_a_download_resumes_after_the_connection_is_cut_mid_file(tmp_path):
    with ReleaseServer() as server:
        served = server.publish(payload(200_000))
        server.cut_after = 70_000
        path = downloader(tmp_path, server).fetch(target_for(served))
    assert path.read_bytes() == served.body
    first, second = server.file_requests()
    assert (first.range, first.status) == (None, 200)
    resumed_at = int(re.fullmatch(r"bytes=(\d+)-", second.range)[1])
    assert 0 < resumed_at <= 70_000  # what arrived before the cut was kept, not fetched again
    assert (second.if_range, second.status) == (served.etag, 206)
    assert second.authorization == f"Bearer {TOKEN}"
    assert {first.encoding, second.encoding} == {"identity"}  # offsets of the stored bytes
    assert not list(tmp_path.glob("*.part"))
    assert download.load(tmp_path).complete


CHILD = """
import sys
from pathlib import Path
from kiosk.delivery.download import Downloader, Target
from kiosk.delivery.throttle import RateLimit
from kiosk.upload.sender import Central
url, token, folder, path, size, sha = sys.argv[1:7]
central = Central(url, token, timeout=(5, 60))
Downloader(Path(folder), central, limit=RateLimit(None), reserve_bytes=0,
           sync_every=8192).fetch(Target(path, int(size), sha, "kiosk-0.3.0-arm64.raucb"))
"""


def test_a_download_resumes_after_the_process_is_killed_and_bytes_after_the_sync_are_cut(
        tmp_path):
    with ReleaseServer() as server:
        served = server.publish(payload(300_000))
        server.stall_after = 100_000
        target = target_for(served)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, server.url, TOKEN, str(tmp_path), FILE_PATH,
             str(target.size), target.sha256], cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        try:
            deadline = time.monotonic() + 60
            while download.load(tmp_path).done_bytes == 0:
                assert time.monotonic() < deadline, "the child never got its first bytes"
                time.sleep(0.05)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(30)
        noted = download.load(tmp_path)
        assert noted.etag == served.etag and not noted.complete
        # A power cut after the last sync: bytes on disk that were never noted as done.
        with open(tmp_path / (target.name + ".part"), "ab") as f:
            f.write(b"garbage written after the last sync")
        server.stall_after = None
        server.go.set()
        path = downloader(tmp_path, server).fetch(target)
    assert path.read_bytes() == served.body
    last = server.file_requests()[-1]
    assert (last.range, last.if_range, last.status) == (f"bytes={noted.done_bytes}-",
                                                        served.etag, 206)


def test_a_changed_etag_starts_the_file_over(tmp_path):
    """The server's bytes under the address changed between two runs (a file being replaced,
    restored from a backup): the first run's partial file must not be glued to the new one."""
    release = payload(200_000, seed=2)
    with ReleaseServer() as server:
        server.publish(payload(200_000, seed=1), etag='"old"')
        server.cut_after = 100_000  # past the first 64 KB chunk, which is kept
        target = Target(FILE_PATH, len(release), hashlib.sha256(release).hexdigest(),
                        "kiosk-0.3.0-arm64.raucb")
        with pytest.raises(DownloadError) as cut:
            downloader(tmp_path, server, retries=0).fetch(target)
        assert cut.value.failure is DownloadFailure.NETWORK
        assert "are kept and the next run resumes" in str(cut.value)
        kept = download.load(tmp_path).done_bytes
        assert kept > 0
        server.publish(release, etag='"new"')
        path = downloader(tmp_path, server).fetch(target)
    assert path.read_bytes() == release
    last = server.file_requests()[-1]
    assert (last.range, last.if_range, last.status) == (f"bytes={kept}-", '"old"', 200)


def test_bytes_that_are_not_the_release_are_refused_and_deleted(tmp_path):
    with ReleaseServer() as server:
        served = server.publish(payload(50_000))
        wrong = Target(FILE_PATH, len(served.body), "0" * 64, "kiosk-0.3.0-arm64.raucb")
        with pytest.raises(DownloadError) as refused:
            downloader(tmp_path, server).fetch(wrong)
    assert refused.value.failure is DownloadFailure.CHECKSUM
    assert "not the published file" in str(refused.value) and "deleted" in str(refused.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["download.json"]
    assert download.load(tmp_path).done_bytes == 0


def test_a_refusal_is_not_retried_and_a_new_target_replaces_the_old_file(tmp_path):
    with ReleaseServer() as server:
        first = server.publish(payload(30_000, seed=3))
        kept = downloader(tmp_path, server).fetch(target_for(first, "kiosk-0.3.0-arm64.raucb"))
        second = server.publish(payload(30_000, seed=4))
        newer = downloader(tmp_path, server).fetch(target_for(second, "kiosk-0.4.0-arm64.raucb"))
        assert not kept.exists() and newer.read_bytes() == second.body
        gone = Target("/api/v1/releases/8/file", 10, "1" * 64, "kiosk-0.5.0-arm64.raucb")
        before = len(server.seen)
        with pytest.raises(DownloadError) as refused:
            downloader(tmp_path, server).fetch(gone)
    assert refused.value.failure is DownloadFailure.SERVER and "HTTP 404" in str(refused.value)
    assert len(server.seen) == before + 1  # a 404 is asked once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["download.json"]  # one file at most


@pytest.fixture
def partition(tmp_path):
    reason = small_partition.why_not()
    if reason:
        pytest.skip(reason)
    with small_partition.small_partition(tmp_path) as mounted:
        yield mounted


def test_no_room_for_the_file_and_the_reserve_is_refused_before_downloading(partition):
    folder = partition / "delivery" / "system" / "download"
    free = small_partition.free_kb(partition) * 1024
    with ReleaseServer() as server:
        served = server.publish(payload(free - 512 * 1024))
        with pytest.raises(DownloadError) as refused:
            downloader(folder, server, reserve=1024 * 1024).fetch(target_for(served))
        assert refused.value.failure is DownloadFailure.NO_SPACE
        assert "not enough space on the data partition" in str(refused.value)
        assert server.file_requests() == []  # not one byte asked for
        assert not list(folder.glob("*.part"))
        # Without the reserve it fits, and is fetched on the same small partition.
        path = downloader(folder, server, reserve=0).fetch(target_for(served))
        assert path.read_bytes() == served.body


def test_a_partition_filling_up_during_the_download_stops_it_and_frees_the_space(partition):
    folder = partition / "delivery" / "system" / "download"
    filler = []

    def journal_grows(done, total):  # another writer takes the room while the file comes
        if done and not filler:
            filler.append(small_partition.fill(partition, leave_kb=100))

    with ReleaseServer() as server:
        served = server.publish(payload(1024 * 1024))
        with pytest.raises(DownloadError) as stopped:
            downloader(folder, server, reserve=1024 * 1024,
                       on_progress=journal_grows).fetch(target_for(served))
    assert stopped.value.failure is DownloadFailure.NO_SPACE
    assert "filling up" in str(stopped.value) and "deleted" in str(stopped.value)
    assert not list(folder.glob("*.part"))


def test_the_rate_limit_spaces_the_chunks_on_its_clock():
    waits = Waits()
    limit = RateLimit.kbps(16, clock=waits.clock, sleep=waits.sleep)  # 2,000 bytes a second
    assert limit.chunk_size == 2000
    arrived = 0
    for _ in range(10):
        limit.took(2000)
        arrived += 2000
        assert arrived <= 2000 * (waits.now + 1)  # one second of credit, never more
    assert waits.now == pytest.approx(9.0)
    waits.now += 100  # a stall saves no burst for later
    limit.took(2000)
    limit.took(2000)
    assert waits.now == pytest.approx(110.0)
    unlimited = RateLimit.kbps(0, clock=waits.clock, sleep=waits.sleep)
    unlimited.took(10**9)
    assert unlimited.chunk_size == 64 * 1024 and waits.now == pytest.approx(110.0)


def test_a_download_keeps_to_the_rate_limit(tmp_path):
    waits = Waits()
    chunks: list[tuple[int, float]] = []
    with ReleaseServer() as server:
        served = server.publish(payload(40_000))
        fetcher = downloader(tmp_path, server,
                             limit=RateLimit.kbps(16, clock=waits.clock, sleep=waits.sleep),
                             on_progress=lambda done, total: chunks.append((done, waits.now)))
        fetcher.sync_every = 2000  # a progress note after every chunk
        fetcher.fetch(target_for(served))
    assert waits.now == pytest.approx(40_000 / 2000 - 1)  # 20 chunks, the first on credit
    for done, at in chunks:
        assert done <= 2000 * (at + 1)
    assert chunks[-1][0] == 40_000


def test_the_window_closing_pauses_a_download_but_not_one_that_just_finished(tmp_path):
    with ReleaseServer() as server:
        small = server.publish(payload(30_000, seed=6))  # arrives in one chunk
        done = downloader(tmp_path / "a", server, keep_going=lambda: False).fetch(
            target_for(small))
        assert done.read_bytes() == small.body
        big = server.publish(payload(300_000, seed=7))
        with pytest.raises(DownloadError) as paused:
            downloader(tmp_path / "b", server, keep_going=lambda: False).fetch(target_for(big))
    assert paused.value.failure is DownloadFailure.PAUSED
    assert 0 < download.load(tmp_path / "b").done_bytes < len(big.body)
