"""Conditional requests on a download (RFC 9110 §13): `If-None-Match` (weak comparison, `*`),
`If-Modified-Since` when there is no `If-None-Match`, and `If-Range` (strong comparison of an
entity tag, or an exact match of a strong Last-Modified date). Pure functions of header text;
a header that cannot be read is treated as its RFC says for an invalid one.

`If-Range` is what keeps a download resumed across a batch update from splicing the old
edition's first half onto the new one's second: when the file changed, the whole new file is
sent (200) instead of the range.
"""

from __future__ import annotations

import re
from email.utils import formatdate, parsedate_to_datetime

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, in a comma-separated list (§8.8.3).
_ETAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')


def http_date(timestamp: float) -> str:
    return formatdate(int(timestamp), usegmt=True)


def entity_tags(value: str) -> list[tuple[bool, str]] | None:
    """[(weak, opaque tag with its quotes)], or None when the list cannot be read."""
    tags, at = [], 0
    value = value.strip()
    while at < len(value):
        if value[at] in ", \t":
            at += 1
            continue
        match = _ETAG.match(value, at)
        if match is None:
            return None
        tags.append((bool(match.group(1)), match.group(2)))
        at = match.end()
    return tags


def not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str,
                 modified: float) -> bool:
    """Whether a GET or HEAD should be answered 304 (§13.1.2, §13.1.3, §13.2.2)."""
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True  # the file exists
        tags = entity_tags(if_none_match) or []
        return any(opaque == etag for _weak, opaque in tags)  # weak comparison
    if if_modified_since is not None:
        since = _timestamp(if_modified_since)
        return since is not None and int(modified) <= since
    return False


def range_allowed(if_range: str | None, etag: str, modified: float, now: float) -> bool:
    """Whether the Range header may be honoured (§13.1.5): no If-Range, or one naming this
    very file; else the whole file is sent."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        tags = entity_tags(value)
        return tags == [(False, etag)]  # strong comparison: a weak tag never matches
    if now - modified < 1:
        return False  # a Last-Modified this recent is a weak validator (§8.8.2.2)
    return _timestamp(value) == int(modified)  # exactly the date sent in Last-Modified


def _timestamp(value: str) -> int | None:
    try:
        return int(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
