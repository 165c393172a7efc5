"""The download server against odd links, conditional requests and scattered ranges: a real
server on 127.0.0.1 (tests/test_downloads.py's fixture), requests as the phone."""

from __future__ import annotations

import os
import time
from email.utils import formatdate
from urllib.parse import parse_qs

import requests

from tests.test_downloads import BOOK, link, point, version, wait_for
from tests.test_downloads import served as served  # noqa: F401 (the fixture)

SIZE = len(BOOK)


def _with_expiry(url: str, expiry: str) -> str:
    head, query = url.split("?")
    q = {k: v[0] for k, v in parse_qs(query).items()}
    return f"{head}?k={q['k']}&e={expiry}&s={q['s']}"


ODD_EXPIRIES = ["%C2%B2", "%C2%B2%C2%B2", "9" * 5000, "%EF%BC%91", "%D9%A3", "-1", "+5",
                "1_000", "%201", ""]


def test_an_odd_expiry_gets_the_refusal_page_not_silence(served):
    for expiry in ODD_EXPIRIES:  # one server for all: each answer, then the next request
        answer = requests.get(_with_expiry(link(served), expiry), timeout=5)
        assert answer.status_code == 403, expiry
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "链接不完整" in answer.content.decode("utf-8")
    assert requests.get(link(served), timeout=5).status_code == 200  # the server goes on


def test_a_current_etag_gets_304_without_a_body_and_a_stale_one_the_file(served):
    url = link(served)
    etag = requests.head(url, timeout=5).headers["ETag"]
    for header in (etag, f'"other", W/{etag}', "*", f'"a",{etag} ,"b"'):
        answer = requests.get(url, headers={"If-None-Match": header}, timeout=5)
        assert answer.status_code == 304, header
        assert answer.content == b"" and answer.headers["ETag"] == etag
    stale = requests.get(url, headers={"If-None-Match": '"old-edition"'}, timeout=5)
    assert stale.status_code == 200 and stale.content == BOOK
    wait_for(lambda: served.counted_list == [("b1", "ok")])


def test_if_range_resumes_only_the_same_file(served):
    day_ago = time.time() - 86400  # a date is a strong validator only a second after the change
    os.utime(served.root / "versions/v1/books/b1.epub", (day_ago, day_ago))
    url = link(served)
    head = requests.head(url, timeout=5).headers
    etag, modified = head["ETag"], head["Last-Modified"]
    same = requests.get(url, headers={"Range": "bytes=10-19", "If-Range": etag}, timeout=5)
    assert same.status_code == 206 and same.content == BOOK[10:20]
    by_date = requests.get(url, headers={"Range": "bytes=10-19", "If-Range": modified}, timeout=5)
    assert by_date.status_code == 206 and by_date.content == BOOK[10:20]
    older = formatdate(time.time() - 86400 * 400, usegmt=True)
    for validator in ('"old-edition"', f"W/{etag}", older, "not a date"):
        whole = requests.get(url, headers={"Range": "bytes=10-19", "If-Range": validator},
                             timeout=5)
        assert whole.status_code == 200 and whole.content == BOOK, validator


def test_a_resume_across_a_batch_update_gets_the_new_file_whole(served):
    url = link(served)
    etag = requests.get(url, headers={"Range": "bytes=0-999"}, timeout=5).headers["ETag"]
    new = b"second edition " * 1000
    now = ("2020-01-01", "2030-01-01")
    version(served.root, "v2", {"b1": (new, "epub", now)})
    (served.root / "current").unlink()
    point(served.root, "v2")
    answer = requests.get(url, headers={"Range": "bytes=1000-", "If-Range": etag}, timeout=5)
    assert answer.status_code == 200 and answer.content == new


def test_three_tail_requests_are_not_three_downloads(served):
    url = link(served)
    for _ in range(3):
        assert requests.get(url, headers={"Range": "bytes=-1"}, timeout=5).content == BOOK[-1:]
    time.sleep(0.1)
    assert served.counted_list == []


def test_ranges_in_any_order_count_once_when_they_cover_the_file(served):
    url = link(served)
    pieces = [(2_000_000, None), (0, 999_999), (500_000, 1_500_000), (1_500_001, 1_999_999)]
    for first, last in pieces[:-1]:
        spec = f"bytes={first}-{'' if last is None else last}"
        assert requests.get(url, headers={"Range": spec}, timeout=5).status_code == 206
    time.sleep(0.1)
    assert served.counted_list == []
    requests.get(url, headers={"Range": "bytes=1500001-1999999"}, timeout=5)
    wait_for(lambda: served.counted_list == [("b1", "ok")])
    assert requests.get(url, timeout=5).content == BOOK  # the same link again: no second count
    time.sleep(0.1)
    assert served.counted_list == [("b1", "ok")]
    requests.get(link(served, now=time.time() + 1), timeout=5)  # another link: another download
    wait_for(lambda: served.counted_list == [("b1", "ok")] * 2)


def test_the_coverage_kept_per_link_is_bounded():
    from kiosk.ebooks.coverage import Coverage
    coverage = Coverage(max_links=8, max_pieces=4)
    for n in range(100):
        assert not coverage.add(f"link{n}", 0, 4, 10)
    assert len(coverage) == 8
    for n in range(50):  # scattered single bytes: only a few kept, never a false count
        assert not coverage.add("scatter", 2 * n, 2 * n, 200)
    assert coverage.pieces("scatter") <= 4
    assert coverage.add("whole", 0, 9, 10) and not coverage.add("whole", 0, 9, 10)
