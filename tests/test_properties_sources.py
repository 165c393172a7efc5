"""Property-based test of the source strings a technician writes in kiosk.toml (a file any PC
can edit on the boot partition): whatever the text, building its driver either works or
raises `SourceError` naming what is wrong, and never opens anything."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from drivers.errors import SourceError
from drivers.registry import check_source
from drivers.source import SCHEMES, parse
from tests.property_budget import PARSER_BUDGET

OPTION_NAMES = ("role", "debounce", "silence_ms", "layout", "baud", "security", "poll_ms",
                "width", "codepage", "qr", "cut", "flow", "paced", "scenario", "x")
TARGETS = st.sampled_from(["/dev/ttyUSB0", "0c2e:0b61", "/dev/input/event3", "scanner",
                           "3m810", "trf7970a", "serial-scanner", "card", "evdev-scanner",
                           "printer", "nowhere"]) | st.text(max_size=12)
VALUES = st.sampled_from(["0", "1", "9600", "-1", "1e400", "nan", "inf", "yes", "no", "us",
                          "card", "eas", "gb18030", "none", "2.5", ""]) | st.text(max_size=8)


@PARSER_BUDGET
@given(st.text(max_size=60))
def test_any_text_parses_or_is_a_source_error(text):
    try:
        parse(text)
    except SourceError:
        pass


@PARSER_BUDGET
@given(st.sampled_from(SCHEMES), TARGETS,
       st.lists(st.tuples(st.sampled_from(OPTION_NAMES), VALUES), max_size=4))
def test_any_source_builds_its_driver_or_is_a_source_error(scheme, target, options):
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in options)
    try:
        check_source(f"{scheme}:{target}" + (f"?{query}" if query else ""))
    except SourceError:
        pass
