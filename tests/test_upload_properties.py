"""The central server's answers are outside bytes too: a Retry-After header of any text reads
as a finite, non-negative wait or as none, never an exception in the uploader."""

import math

from hypothesis import given
from hypothesis import strategies as st

from kiosk.upload.sender import _retry_after
from tests.property_budget import PARSER_BUDGET

HEADER_TEXT = st.one_of(
    st.text(st.characters(max_codepoint=0xff), max_size=40),  # headers arrive as Latin-1
    st.sampled_from(["²", "9" * 400, "120", "Wed, 21 Oct 2015 07:28:00 GMT",
                     "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 00:00:00 +2359"]))


@PARSER_BUDGET
@given(HEADER_TEXT)
def test_any_retry_after_is_a_finite_wait_or_none(value):
    wait = _retry_after(value)
    assert wait is None or (math.isfinite(wait) and 0 <= wait <= 86400)


def test_a_retry_after_in_other_digits_is_ignored():
    """'²' passed str.isdigit() and float() then raised inside the uploader."""
    assert _retry_after("²") is None
    assert _retry_after("9" * 400) == 86400
