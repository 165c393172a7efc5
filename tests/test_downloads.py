"""The kiosk's own download server, over real sockets on 127.0.0.1 with requests as the phone."""

import hashlib
import os
import random
import socket
import time
from urllib.parse import unquote

import pytest
import requests

from content.catalogue import write_catalogue
from content.title import Title
from kiosk.ebooks.download_server import DownloadServer, RefusalTally
from kiosk.ebooks.links import LinkSigner
from tests.waiting import wait_until

TODAY = "2026-11-25"
# More than socket buffers hold: a dropped phone shows. The same bytes in every process, since
# the range tests' ids hold them and parallel workers must collect the same tests.
BOOK = random.Random(2026).randbytes(3_000_000)


def version(root, name, files):
    """A catalogue version folder with real files; `files` maps id -> (bytes, format, licence)."""
    folder = root / "versions" / name
    (folder / "books").mkdir(parents=True)
    titles = []
    for title_id, (data, fmt, valid) in files.items():
        (folder / f"books/{title_id}.{fmt}").write_bytes(data)
        titles.append(Title(title_id, "", "红楼梦" if title_id == "b1" else "书", "曹雪芹",
                            "classics", "", f"covers/{title_id}.jpg", f"books/{title_id}.{fmt}",
                            len(data), hashlib.sha256(data).hexdigest(), fmt, *valid, "2026-11"))
    write_catalogue(folder / "catalogue.sqlite3", titles)
    return folder


def point(root, name):
    (root / ".tmp").symlink_to(f"versions/{name}")
    os.replace(root / ".tmp", root / "current")


@pytest.fixture
def served(tmp_path):
    now = ("2020-01-01", "2030-01-01")
    version(tmp_path, "v1", {"b1": (BOOK, "epub", now), "b2": (b"%PDF-1.4 tiny", "pdf", now),
                             "old": (b"x", "epub", ("2020-01-01", "2026-11-24")),
                             "soon": (b"x", "epub", ("2026-11-26", "2030-01-01"))})
    point(tmp_path, "v1")
    signer = LinkSigner(b"k" * 32, "kiosk-1", "http://127.0.0.1:0", ttl_s=600)
    counted = []
    server = DownloadServer(signer, tmp_path, lambda i, o, n: counted.append((i, o)),
                            host="127.0.0.1", port=0, today=lambda: TODAY)
    server.start()
    signer.base = f"http://127.0.0.1:{server.port}"
    server.counted_list = counted
    server.root = tmp_path
    yield server
    server.stop()


def link(server, book_id="b1", now=None):
    return server.signer.link(book_id, time.time() if now is None else now)


def wait_for(condition, seconds=10.0):
    """Until the server's counting thread has done what `condition` checks."""
    wait_until(condition, seconds, "count (or report) the test expects", every=0.01)


def test_a_whole_download_with_its_headers_counts_once(served):
    answer = requests.get(link(served), timeout=5)
    assert answer.status_code == 200 and answer.content == BOOK
    assert answer.headers["Content-Type"] == "application/epub+zip"
    assert answer.headers["Content-Length"] == str(len(BOOK))
    assert answer.headers["Accept-Ranges"] == "bytes"
    disposition = answer.headers["Content-Disposition"]
    assert 'filename="b1.epub"' in disposition
    assert unquote(disposition.split("UTF-8''")[1]) == "红楼梦.epub"
    wait_for(lambda: served.counted_list == [("b1", "ok")])
    pdf = requests.get(link(served, "b2"), timeout=5)
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content == b"%PDF-1.4 tiny"


def test_head_answers_without_counting(served):
    answer = requests.head(link(served), timeout=5)
    assert answer.status_code == 200 and answer.headers["Content-Length"] == str(len(BOOK))
    assert answer.content == b"" and served.counted_list == []


@pytest.mark.parametrize("header, status, expected", [
    ("bytes=0-99", 206, BOOK[:100]), ("bytes=2999990-", 206, BOOK[2999990:]),
    ("bytes=-10", 206, BOOK[-10:]), ("bytes=100-50000000", 206, BOOK[100:]),
    ("bytes=0-1,5-6", 200, BOOK), ("bytes=9-3", 200, BOOK), ("items=0-1", 200, BOOK),
])
def test_single_ranges(served, header, status, expected):
    answer = requests.get(link(served), headers={"Range": header}, timeout=5)
    assert answer.status_code == status and answer.content == expected
    if status == 206:
        first = len(BOOK) - len(expected) if header.startswith("bytes=-") else int(
            header[6:].split("-")[0])
        assert answer.headers["Content-Range"] == (
            f"bytes {first}-{first + len(expected) - 1}/{len(BOOK)}")


def test_a_range_past_the_end_is_416(served):
    answer = requests.get(link(served), headers={"Range": "bytes=3000000-"}, timeout=5)
    assert answer.status_code == 416 and answer.headers["Content-Range"] == f"bytes */{len(BOOK)}"


def test_a_resumed_download_counts_once_when_its_last_byte_is_sent(served):
    url = link(served)
    first = requests.get(url, headers={"Range": "bytes=0-1499999"}, timeout=5).content
    assert served.counted_list == []
    rest = requests.get(url, headers={"Range": "bytes=1500000-"}, timeout=5).content
    assert first + rest == BOOK
    wait_for(lambda: served.counted_list == [("b1", "ok")])


@pytest.mark.parametrize("change, status, reason", [
    (lambda u: u[:-1] + ("0" if u[-1] != "0" else "1"), 403, "bad signature"),
    (lambda u: u.replace("&e=", "&e=9"), 403, "bad signature"),
    (lambda u: u.replace("k=kiosk-1", "k=kiosk-2"), 403, "other kiosk"),
    (lambda u: u.replace("/d/b1", "/d/b%201"), 403, "malformed"),
    (lambda u: u.split("?")[0], 403, "malformed"),
])
def test_tampered_links_are_refused_with_a_page_a_phone_can_read(served, change, status, reason):
    answer = requests.get(change(link(served)), timeout=5)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    text = answer.content.decode("utf-8")
    assert "请回到自助机" in text or "本馆自助机" in text
    assert 'name="viewport"' in text
    wait_for(lambda: [outcome for _id, outcome in served.counted_list] == [reason])


def test_an_expired_link_is_gone(served):
    answer = requests.get(link(served, now=time.time() - 601), timeout=5)
    assert answer.status_code == 410 and "已过期" in answer.content.decode("utf-8")


@pytest.mark.parametrize("book_id", ["old", "soon", "nobody"])
def test_titles_outside_their_licence_or_unknown_are_not_served(served, book_id):
    answer = requests.get(link(served, book_id), timeout=5)
    assert answer.status_code == 404 and "不可下载" in answer.content.decode("utf-8")


def test_a_new_catalogue_mid_download_finishes_the_old_file(served):
    version(served.root, "v2", {"b1": (b"new edition", "epub", ("2020-01-01", "2030-01-01"))})
    answer = requests.get(link(served), stream=True, timeout=5)
    head = answer.raw.read(1000)
    point(served.root, "v2")
    assert head + answer.raw.read() == BOOK
    assert requests.get(link(served), timeout=5).content == b"new edition"


def raw(server, data, timeout=5):
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(data)
        return s.recv(65536)


@pytest.mark.parametrize("request_bytes, status", [
    (b"\x16\x03\x01garbage\r\n\r\n", b"400"), (b"BREW /d/b1 HTTP/1.1\r\n\r\n", b"501"),
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", b"414"),
    (b"GET / HTTP/1.1\r\nX: " + b"y" * 70000 + b"\r\n\r\n", b"431"),
    (b"GET /etc/passwd HTTP/1.1\r\n\r\n", b"404"), (b"GET /d/../x HTTP/1.1\r\n\r\n", b"40"),
])
def test_garbage_requests_get_an_answer_and_the_server_goes_on(served, request_bytes, status):
    assert raw(served, request_bytes).split(b" ")[1].startswith(status)
    assert requests.get(link(served), timeout=5).status_code == 200


def test_a_silent_client_blocks_no_one(served):
    with socket.create_connection(("127.0.0.1", served.port)):
        assert requests.get(link(served), timeout=5).content == BOOK


def test_a_phone_that_drops_mid_download_is_not_counted(served):
    request = f"GET {link(served).split(str(served.port))[1]} HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", served.port)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(request.encode())
        s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    assert requests.get(link(served, "b2"), timeout=5).status_code == 200
    wait_for(lambda: ("b2", "ok") in served.counted_list)
    assert ("b1", "ok") not in served.counted_list


def test_stop_is_quick_even_with_a_client_connected(served):
    with socket.create_connection(("127.0.0.1", served.port)):
        started = time.monotonic()
        served.stop()
        assert time.monotonic() - started < 2


# --- refused links: counted in memory, journaled a row a minute per reason ---------------

def test_refusals_are_reported_at_most_once_a_window_per_reason():
    tally = RefusalTally(window_s=60)
    assert tally.add("bad signature", 0.0) == (1, False)  # the first, at once
    assert tally.add("bad signature", 1.0) == (None, True)
    assert tally.add("bad signature", 2.0) == (None, False)
    assert tally.add("expired", 3.0) == (1, False)  # another reason has its own window
    assert tally.due(59.0) == [] and tally.next_due() == 60.0
    assert tally.due(60.0) == [("bad signature", 2)]
    assert tally.add("bad signature", 61.0) == (None, True)  # a window has just been reported
    assert tally.add("expired", 64.0) == (1, False)  # quiet for a window: at once again
    assert tally.drain() == [("bad signature", 1)] and tally.drain() == []


def test_a_burst_is_reported_when_its_window_closes_and_nothing_is_lost_at_stop(tmp_path):
    reports = []
    signer = LinkSigner(b"k" * 32, "kiosk-1", "http://127.0.0.1:0", ttl_s=600)
    server = DownloadServer(signer, tmp_path, lambda i, o, n: reports.append((i, o, n)),
                            host="127.0.0.1", port=0, refusal_window_s=0.3)
    server.start()
    base = f"http://127.0.0.1:{server.port}/d/b1?k=kiosk-1&e=9999999999&s=bad"
    with requests.Session() as phone:
        for _ in range(20):
            assert phone.get(base, timeout=5).status_code == 403
        wait_for(lambda: sum(n for _i, _o, n in reports) == 20)  # the reporter thread did it
        for _ in range(7):
            phone.get(base, timeout=5)
    server.stop()  # what waits is reported now
    assert sum(n for _i, _o, n in reports) == 27
    assert {(i, o) for i, o, _n in reports} == {("", "bad signature")}
    assert len(reports) < 27


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_flood_of_bad_links_writes_a_handful_of_rows_with_the_true_count(tmp_path):
    """Thousands of forged and expired links from the library Wi-Fi, against the kiosk's real
    download server and journal: a few rows, whose counts add up to every refusal."""
    from kiosk import config as config_module
    from kiosk.journal import Journal
    from kiosk.runtime import Runtime, SteerableClock

    path = tmp_path / "kiosk.toml"
    port = free_port()
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[ebooks]\nserve = true\n'
                    f'listen = "127.0.0.1"\nport = {port}\n'
                    f'download_base = "http://127.0.0.1:{port}"\n')
    config = config_module.load(path)
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    runtime.start()
    try:
        server = runtime.download_server
        good = server.signer.link("b1", time.time())
        forged = good[:-1] + ("0" if good[-1] != "0" else "1")
        expired = server.signer.link("b1", time.time() - 7200)
        sent = {"bad signature": 0, "expired": 0}

        def flood(url, reason, n):
            for _ in range(n):  # a connection each, as a script would (and no Nagle wait)
                requests.get(url, timeout=10, headers={"Connection": "close"})
                sent[reason] += 1

        import threading
        threads = [threading.Thread(target=flood, args=(url, reason, 1500))
                   for url, reason in ((forged, "bad signature"), (expired, "expired"))]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            runtime.pump()  # the app's clock goes on meanwhile
            time.sleep(0.02)
    finally:
        runtime.close()  # the counts still waiting are journaled as the kiosk stops
    with Journal.open_existing(config.journal_path) as journal:
        rows = [r for r in journal.rows() if r.kind == "ebook_download"]
    totals = {}
    for row in rows:
        totals[row.outcome] = totals.get(row.outcome, 0) + row.detail["count"]
    assert totals == sent == {"bad signature": 1500, "expired": 1500}
    assert len(rows) <= 6, [(r.outcome, r.detail) for r in rows]
