"""Masking of patron and card numbers, for log lines and for the screen. Pure, any thread.

Card and patron numbers are runs of digits: a library card's 14 (or the 8 to 10 of an older
card, a card reader's decimal UID), a phone e-card's more. Every run of 6 or more digits is
masked, wherever it stands (`AA23520001234566|` in a SIP2 frame, `读者证23520001234566`), unless
it lies inside something that is plainly no card: a UUID (a batch id), a lower-case hex digest
(sha256, a boot id), a version (`1.4.0+20261207093000`), a time's fraction of a second, a count
or sequence number after a word that says so (`rows 1000001 to 1003000`, `seq=1234567`). Then a
technician can match a log line to the server's and no card number reaches the log.
"""

from __future__ import annotations

import re

_NUMBER_RUN = re.compile(r"\d{6,}")
KEEP = 4

_HEX = "[0-9a-fA-F]"
# What is kept readable; a digit run is kept only when it lies wholly inside one of these.
_IDENTIFIER = re.compile("|".join((
    # a UUID, either case: batch ids, boot ids
    rf"(?<![0-9A-Za-z]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![0-9A-Za-z])",
    # a hex digest as Python writes one: lower case, md5/uuid, sha1, sha256 or sha512 long
    r"(?<![0-9A-Za-z])(?=[0-9]*[a-f])(?:[0-9a-f]{128}|[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})"
    r"(?![0-9A-Za-z])",
    # a version of three or four short numbers, with a pre-release or build suffix
    r"(?<![\w.])v?\d{1,4}(?:\.\d{1,4}){2,3}(?!\d)(?:[-+~][0-9A-Za-z][0-9A-Za-z.+~-]*)?",
    # a time of day with a fraction of a second (09:28:59.123456), ISO basic date-times
    r"\d{2}:\d{2}:\d{2}[.,]\d{1,9}(?!\d)",
    r"(?<!\d)\d{8}T\d{6}(?:[.,]\d{1,9})?(?!\d)",
    # counts and sequence numbers the upload and the server log in words
    r"\brows? \d+(?: to |\.\.)\d+(?!\d)", r"\bup to (?:row )?\d+(?!\d)",
    r"(?<![\w.])\d+ (?:rows|counts|titles|batches|bytes|KB|MB)\b",
)))
# `key=value` (or `key: value`, `"key": value`) whose key names a count, a size, a sequence
# number, a port or a time, and no card, patron or person.
_KEY_VALUE = re.compile(r"""(?<![0-9A-Za-z])([A-Za-z][A-Za-z0-9_]*)["']?\s*[=:]\s*["']?\d+""")
_READABLE_KEY = re.compile(r"(?:^|_)(?:seq|rows?|n|count|bytes|size|kb|mb|offset|pid|port|"
                           r"status|s|ms|ts|time|epoch|uptime)$", re.I)
_PERSONAL_KEY = re.compile(r"patron|card|reader|user|member|borrower|barcode|uid|pin|phone",
                           re.I)


def mask(number: str) -> str:
    """`23520001234567` -> `**********4567`: enough for staff to match a card, not to copy it."""
    if len(number) <= KEEP:
        return "*" * len(number)
    return "*" * (len(number) - KEEP) + number[-KEEP:]


def mask_numbers_in(text: str) -> str:
    """Mask every run of 6 or more digits in free text that is not part of an identifier."""
    if not _NUMBER_RUN.search(text):
        return text  # most log lines: no regular expression beyond this one
    kept = [m.span() for m in _IDENTIFIER.finditer(text)]
    kept += [m.span() for m in _KEY_VALUE.finditer(text) if _readable_key(m.group(1))]

    def one(run: re.Match[str]) -> str:
        start, end = run.span()
        if any(first <= start and end <= last for first, last in kept):
            return run.group()
        return mask(run.group())

    return _NUMBER_RUN.sub(one, text)


def _readable_key(key: str) -> bool:
    return bool(_READABLE_KEY.search(key)) and not _PERSONAL_KEY.search(key)
