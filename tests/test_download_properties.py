"""Property-based tests of what the download server reads from phones: the download link (path
and query), Range, If-None-Match and If-Range headers, and the per-link coverage count."""

from __future__ import annotations

import string
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from kiosk.ebooks.byte_ranges import Unsatisfiable, byte_range
from kiosk.ebooks.conditional import entity_tags, not_modified, range_allowed
from kiosk.ebooks.coverage import Coverage
from kiosk.ebooks.download_server import REFUSALS
from kiosk.ebooks.links import BOOK_ID, LinkSigner, link_fields
from tests.property_budget import PARSER_BUDGET

SIGNER = LinkSigner(b"k" * 32, "liling-lobby-1", "http://192.168.1.20:8080")
NOW = 1_795_000_000
book_ids = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=64)
digits = st.text("0123456789", min_size=1, max_size=40) | st.just("9" * 5000)
# Header text as http.server hands it over: latin-1, with the characters that matter often.
noise = st.text(st.characters(max_codepoint=0xFF) | st.sampled_from("²١０-=,* \t\"W/"),
                max_size=60)
range_headers = (noise | st.builds(lambda a, b, sep: f"bytes{sep}{a}-{b}",
                                   digits | st.just(""), digits | st.just(""),
                                   st.sampled_from(["=", " = ", "="]))
                 | st.builds(lambda a, b: f"bytes={a}-{b}", st.integers(0, 10 ** 7),
                             st.integers(0, 10 ** 7)))


@PARSER_BUDGET
@given(range_headers, st.integers(0, 10 ** 7))
def test_a_range_is_within_the_file_or_refused_as_unsatisfiable(header, size):
    try:
        wanted = byte_range(header, size)
    except Unsatisfiable:
        return
    if wanted is not None:
        first, last = wanted
        assert 0 <= first <= last < size


@PARSER_BUDGET
@given(st.integers(0, 10 ** 7), st.integers(0, 10 ** 7), st.integers(1, 10 ** 7))
def test_a_well_formed_range_inside_the_file_is_served_as_asked(a, b, size):
    first, last = sorted((a % size, b % size))
    assert byte_range(f"bytes={first}-{last}", size) == (first, last)
    assert byte_range(f"bytes={first}-", size) == (first, size - 1)


@PARSER_BUDGET
@given(st.text(max_size=80) | st.builds(lambda i, q: f"/d/{i}?{q}", st.text(max_size=20),
                                         st.text(max_size=60)))
def test_any_request_target_is_read_or_set_aside_never_raised(target):
    fields = link_fields(target)
    if fields is not None:
        assert all(isinstance(part, str) for part in fields)
        assert SIGNER.check(*fields, NOW) in REFUSALS


@PARSER_BUDGET
@given(st.text(max_size=70), st.text(max_size=20), digits | noise, noise)
def test_a_link_check_gives_a_documented_reason_never_an_error(book_id, kiosk, expiry, sig):
    assert SIGNER.check(book_id, kiosk, expiry, sig, NOW) in REFUSALS


@PARSER_BUDGET
@given(book_ids, st.integers(0, 4_000_000_000))
def test_a_link_made_here_reads_back_and_checks_good_until_it_expires(book_id, now):
    link = SIGNER.link(book_id, now)
    url = urlsplit(link)
    assert f"{url.scheme}://{url.netloc}" == SIGNER.base
    fields = link_fields(link[len(SIGNER.base):])
    assert fields is not None and fields[0] == book_id and BOOK_ID.match(fields[0])
    assert SIGNER.check(*fields, now) is None
    assert SIGNER.check(*fields, now + SIGNER.ttl_s + 1) == "expired"


@PARSER_BUDGET
@given(noise, noise, noise)
def test_conditional_headers_never_raise(if_none_match, if_modified_since, if_range):
    etag = '"abc"'
    assert not_modified(if_none_match, if_modified_since, etag, NOW) in (True, False)
    assert range_allowed(if_range, etag, NOW, NOW + 10) in (True, False)


@PARSER_BUDGET
@given(st.lists(st.tuples(st.booleans(), st.text(st.characters(
    min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"'), max_size=12)),
    max_size=5), st.sampled_from([",", ", ", " ,\t"]))
def test_an_entity_tag_list_reads_back(tags, separator):
    written = separator.join(("W/" if weak else "") + f'"{opaque}"' for weak, opaque in tags)
    assert entity_tags(written) == [(weak, f'"{opaque}"') for weak, opaque in tags]


@PARSER_BUDGET
@given(st.integers(1, 200), st.lists(st.tuples(st.integers(0, 250), st.integers(0, 250)),
                                     max_size=30))
def test_a_link_counts_once_exactly_when_its_pieces_cover_the_file(size, pieces):
    coverage, held, counts = Coverage(max_pieces=10 ** 6), set(), 0
    for a, b in pieces:
        first, last = sorted((a, b))
        counted = coverage.add("link", first, last, size)
        if 0 <= first <= last < size:
            held |= set(range(first, last + 1))
        counts += counted
        assert counts == (1 if held == set(range(size)) else 0)


@PARSER_BUDGET
@given(book_ids, st.integers(0, 10 ** 12 - 1), st.text(max_size=40))
def test_any_signature_on_a_well_formed_link_is_checked_never_raised(book_id, expiry, sig):
    reason = SIGNER.check(book_id, SIGNER.kiosk_id, str(expiry), sig, NOW)
    assert reason in ("bad signature", "expired") or reason is None
