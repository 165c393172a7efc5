"""Property-based tests of the scanner parsers fed with outside bytes and keys: evdev key
streams to scans, serial line splitting, and what every scan goes through (symbology, the
checks, classification). None raises; what a scanner types reads back as itself; a good scan
after any garbage (and the pause or line end that ends it) is still read."""

from __future__ import annotations

import logging

from evdev import InputEvent
from evdev import ecodes as e
from hypothesis import given
from hypothesis import strategies as st

from drivers.barcode import keymap
from drivers.barcode.classify import KINDS, classify
from drivers.barcode.keystream import KeyStream
from drivers.barcode.pauses import UNFINISHED_SCAN_S
from drivers.barcode.reading import ScanReading
from drivers.barcode.symbology import split
from drivers.events import BarcodeRead, CardRead
from drivers.serial_lines import Dropped, LineSplitter
from drivers.settings import BarcodeRules
from tests.property_budget import PARSER_BUDGET

SILENCE_S = 0.08
ITEM = "33520000123453"
LOCKS = (e.KEY_CAPSLOCK, e.KEY_NUMLOCK)  # toggles: garbage that flips them changes later scans


def stamped(at: float, kind: int, code: int, value: int) -> InputEvent:
    return InputEvent(int(at), int(round(at % 1 * 1_000_000)), kind, code, value)


def typed_events(text: str, layout: str, at: float) -> list[InputEvent]:
    """What a scanner programmed for `layout` sends for `text` and Enter, from time `at`."""
    out: list[InputEvent] = []
    for n, stroke in enumerate([*keymap.strokes(text, layout), keymap.Stroke(e.KEY_ENTER)]):
        t = at + n * 0.002
        mods = ([e.KEY_LEFTSHIFT] if stroke.shift else []) + \
            ([e.KEY_RIGHTALT] if stroke.altgr else [])
        for value, codes in ((1, [*mods, stroke.code]), (0, [stroke.code, *reversed(mods)])):
            out += [stamped(t, e.EV_KEY, code, value) for code in codes]
            out.append(stamped(t, e.EV_SYN, e.SYN_REPORT, 0))
    return out


def typeable(layout: str) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(sorted(keymap._inverse(layout))), min_size=1, max_size=30)


def keys_held_by(events: list[InputEvent]) -> set[int]:
    held: set[int] = set()
    for event in events:
        if event.type == e.EV_KEY and event.value == 1:
            held.add(event.code)
        elif event.type == e.EV_KEY and event.value == 0:
            held.discard(event.code)
    return held


# --- evdev key streams ------------------------------------------------------------------------

@PARSER_BUDGET
@given(st.data(), st.sampled_from(keymap.LAYOUTS))
def test_what_a_scanner_types_reads_back_as_itself(data, layout):
    text = data.draw(typeable(layout))
    stream = KeyStream(layout, SILENCE_S, lambda: ())
    scans = stream.feed(typed_events(text, layout, 5.0), now=5.0)
    assert [(scan.text, scan.end, scan.problems) for scan in scans] == [(text, "enter", ())]


KEY_CODES = sorted((set(keymap.TABLES["de"].keys) | set(keymap.END_KEYS) | keymap.QUIET_KEYS
                    | set(keymap.KEYPAD_DIGITS) | set(keymap.KEYPAD_SIGNS)) - set(LOCKS))
EVENTS = st.lists(st.tuples(
    st.sampled_from([e.EV_KEY] * 6 + [e.EV_SYN, e.EV_MSC, e.EV_LED]),
    st.sampled_from(KEY_CODES) | st.integers(0, 0xFFFF),
    st.integers(0, 2),
    st.floats(0, 0.3)), max_size=60)


@PARSER_BUDGET
@given(EVENTS, st.sampled_from(keymap.LAYOUTS))
def test_any_key_stream_then_a_pause_and_a_good_scan_reads_the_scan(garbage, layout):
    events, t = [], 1.0
    for kind, code, value, gap in garbage:
        t += gap
        if kind == e.EV_SYN:
            code = code % 4  # SYN_REPORT, SYN_CONFIG, SYN_MT_REPORT, SYN_DROPPED
        if code in LOCKS:
            continue
        events.append(stamped(t, kind, code, value))
    released = [stamped(t, e.EV_KEY, code, 0) for code in sorted(keys_held_by(events))]
    ending = [*released, stamped(t, e.EV_SYN, e.SYN_REPORT, 0)]
    stream = KeyStream(layout, SILENCE_S, lambda: keys_held_by(events + ending))
    stream.feed(events + ending, now=t)  # whatever it makes of them, it does not raise
    stream.expire(t + UNFINISHED_SCAN_S + 0.01)
    later = t + UNFINISHED_SCAN_S + 1
    scans = stream.feed(typed_events(ITEM, layout, later), now=later)
    assert [(scan.text, scan.problems) for scan in scans] == [(ITEM, ())]


@PARSER_BUDGET
@given(typeable("us"), st.integers(0, 200), st.integers(0, 40))
def test_a_scan_read_after_lost_events_is_never_a_fragment(text, cut, lost):
    """Events lost anywhere in a scan: the scan is dropped whole, the keys held are read again,
    and the next scan (after a pause) is read as itself."""
    scan = typed_events(text, "us", 1.0)
    cut = min(cut, len(scan) - 5)  # the loss begins before Enter is pressed
    gone = scan[cut:cut + lost + 1]
    before, after = scan[:cut], scan[cut + len(gone):]
    real = keys_held_by(before + gone + after)
    stream = KeyStream("us", SILENCE_S, lambda: real)
    out = stream.feed(before, now=1.0)
    out += stream.feed([stamped(1.0, e.EV_SYN, e.SYN_DROPPED, 0), gone[-1], *after], now=1.1)
    assert [scan.end for scan in out] == ["lost"]
    assert all(scan.problems for scan in out)
    again = stream.feed(typed_events(ITEM, "us", 5.0), now=5.0)
    assert [(scan.text, scan.problems) for scan in again] == [(ITEM, ())]


# --- serial lines -----------------------------------------------------------------------------

NOISE = st.binary(max_size=700)
BAD_BYTES = st.binary(max_size=20).map(
    lambda raw: bytes(b for b in raw if not 0x20 <= b < 0x7F and b not in b"\r\n"))
CODES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40)


def lines(splitter: LineSplitter, chunks: list[tuple[bytes, float]]) -> list[str | Dropped]:
    out: list[str | Dropped] = []
    for chunk, now in chunks:
        out += splitter.feed(chunk, now)
    return out


@PARSER_BUDGET
@given(NOISE, st.lists(st.integers(0, 700), max_size=6), st.none() | st.just(0.05))
def test_any_bytes_in_any_chunks_give_the_same_lines(wire, cuts, silence):
    cuts = sorted({0, len(wire), *(c for c in cuts if c <= len(wire))})
    whole = LineSplitter(end_after_s=silence).feed(wire, 1.0)
    split_up = lines(LineSplitter(end_after_s=silence),
                     [(wire[a:b], 1.0) for a, b in zip(cuts, cuts[1:])])
    assert whole == split_up
    assert all(isinstance(line, Dropped) or (line.isascii() and line.isprintable())
               for line in whole)


@PARSER_BUDGET
@given(NOISE, CODES, st.sampled_from([b"\r", b"\n", b"\r\n"]), st.none() | st.just(0.05))
def test_a_good_line_after_garbage_and_a_line_end_is_read(garbage, code, end, silence):
    splitter = LineSplitter(end_after_s=silence)
    got = lines(splitter, [(garbage + end, 1.0), (code.encode() + end, 1.01)])
    assert got[-1] == code


@PARSER_BUDGET
@given(NOISE, CODES, st.none() | st.just(0.05))
def test_a_good_line_after_garbage_and_a_long_pause_is_read(garbage, code, silence):
    splitter = LineSplitter(end_after_s=silence)
    splitter.feed(garbage, 1.0)
    splitter.expire(1.0 + UNFINISHED_SCAN_S)
    assert splitter.feed(code.encode() + b"\r", 1.0 + UNFINISHED_SCAN_S + 0.1)[-1] == code


@PARSER_BUDGET
@given(BAD_BYTES.filter(bool), CODES)
def test_a_good_line_right_after_bytes_that_are_never_text_is_read(noise, code):
    assert LineSplitter().feed(noise + code.encode() + b"\r\n", 1.0) == [
        Dropped(f"{len(noise)} byte{'s' if len(noise) > 1 else ''} of noise dropped"), code]


# --- what every scan goes through --------------------------------------------------------------

@PARSER_BUDGET
@given(st.text(max_size=600), st.sampled_from(["barcode", "card"]),
       st.sampled_from([BarcodeRules(), BarcodeRules(length=0, check_digit="none")]))
def test_any_scan_is_an_event_or_a_counted_fault(raw, role, rules):
    faults: list[str] = []
    reading = ScanReading("scanner", role, rules, 0, faults.append)
    logging.disable(logging.CRITICAL)
    try:
        event = reading.take(raw, 1.0)
    finally:
        logging.disable(logging.NOTSET)
    assert (event is None) != (len(faults) == 0) or event is None
    if isinstance(event, BarcodeRead):
        assert event.kind in KINDS and event.data
    elif isinstance(event, CardRead):
        assert event.data == raw.strip()


@PARSER_BUDGET
@given(st.text(max_size=80), st.sampled_from([None, "other", "ean13", "ean13+addon", "ean8",
                                               "codabar", "qr", "code39"]))
def test_symbology_and_classification_take_any_text(raw, symbology):
    data, said = split(raw)
    assert isinstance(data, str) and (said is None or isinstance(said, str))
    assert classify(data, symbology, BarcodeRules()) in KINDS
    assert classify(data, said, BarcodeRules(length=0, check_digit="none")) in KINDS
