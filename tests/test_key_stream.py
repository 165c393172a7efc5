"""One input node's events to scans (`KeyStream`): pauses, terminators and SYN_DROPPED, pure.

Events are real `evdev.InputEvent`s with the kernel's timestamps set by the test; the clock
(`now`) is passed in, so no test sleeps.
"""

from __future__ import annotations

from evdev import InputEvent
from evdev import ecodes as e

from drivers.barcode.keymap import Typed, strokes
from drivers.barcode.keystream import LOST_EVENTS, KeyStream, unfinished
from drivers.barcode.pauses import UNFINISHED_SCAN_S, ScanPauses

SILENCE_S = 0.08
STEP_S = 0.002  # between key reports, as a wired scanner sends them


def key_events(text: str, at: float, *, end: str | None = "enter") -> list[InputEvent]:
    """What a US-layout scanner sends for `text` from time `at`, each key a report apart."""
    keys = strokes(text) + ([strokes("\t")[0]] if end == "tab" else [])
    out: list[InputEvent] = []
    t = at

    def report(changes: list[tuple[int, int]]) -> None:
        nonlocal t
        sec, usec = int(t), int(round(t % 1 * 1_000_000))
        out.extend(InputEvent(sec, usec, e.EV_KEY, code, value) for code, value in changes)
        out.append(InputEvent(sec, usec, e.EV_SYN, e.SYN_REPORT, 0))
        t += STEP_S

    for stroke in keys:
        mods = [e.KEY_LEFTSHIFT] if stroke.shift else []
        report([(code, 1) for code in (*mods, stroke.code)])
        report([(code, 0) for code in (stroke.code, *mods)])
    if end == "enter":
        report([(e.KEY_ENTER, 1)])
        report([(e.KEY_ENTER, 0)])
    return out


def syn(code: int, at: float) -> InputEvent:
    return InputEvent(int(at), int(round(at % 1 * 1_000_000)), e.EV_SYN, code, 0)


class Keys:
    """The device's key state, as active_keys() would answer it."""

    def __init__(self) -> None:
        self.held: set[int] = set()
        self.asked = 0

    def __call__(self) -> list[int]:
        self.asked += 1
        return sorted(self.held)


def stream(keys: Keys | None = None) -> KeyStream:
    return KeyStream("us", SILENCE_S, keys or Keys())


def texts(scans: list[Typed]) -> list[tuple[str, str]]:
    return [(scan.text, scan.end) for scan in scans]


# --- pauses ----------------------------------------------------------------------------------

def test_silence_ends_scans_until_the_scanner_is_seen_to_send_enter():
    keys = stream()
    assert keys.feed(key_events("111", 10.0, end=None), now=10.0) == []
    assert keys.deadline() == 10.0 + SILENCE_S
    assert texts(keys.expire(10.0 + SILENCE_S)) == [("111", "silence")]
    assert texts(keys.feed(key_events("222", 11.0), now=11.0)) == [("222", "enter")]
    assert keys.feed(key_events("333", 12.0, end=None), now=12.0) == []
    assert keys.expire(12.5) == []  # a scanner that sends Enter does not end scans on silence
    assert keys.deadline() == 12.0 + UNFINISHED_SCAN_S


def test_a_pause_inside_a_scan_of_a_scanner_that_sends_enter_does_not_split_it():
    keys = stream()
    keys.feed(key_events("33520000123453", 1.0), now=1.0)
    # A wireless scanner pauses 120 ms mid-scan: both halves in one read, then apart.
    batch = key_events("2352000", 5.0, end=None) + key_events("1234566", 5.2)
    assert texts(keys.feed(batch, now=5.3)) == [("23520001234566", "enter")]
    assert keys.feed(key_events("3352000", 6.0, end=None), now=6.0) == []
    assert keys.expire(6.15) == []
    assert texts(keys.feed(key_events("0123453", 6.15), now=6.15)) == [
        ("33520000123453", "enter")]


def test_a_scan_left_unfinished_by_a_scanner_that_sends_enter_is_dropped_not_emitted():
    keys = stream()
    keys.feed(key_events("111", 1.0), now=1.0)
    keys.feed(key_events("3352", 2.0, end=None), now=2.0)
    assert keys.expire(2.0 + UNFINISHED_SCAN_S - 0.01) == []
    dropped = keys.expire(2.0 + UNFINISHED_SCAN_S)
    assert [(d.text, d.end, d.problems) for d in dropped] == [
        ("3352", "unfinished", (unfinished(),))]
    # Keys after a long pause inside one read: the partial is dropped, the rest is a scan.
    batch = key_events("44", 9.0, end=None) + key_events("55", 12.0)
    assert [(d.text, d.end) for d in keys.feed(batch, now=12.1)] == [
        ("44", "unfinished"), ("55", "enter")]


def test_a_scanner_reprogrammed_without_enter_ends_its_scans_on_silence_again():
    pauses = ScanPauses(SILENCE_S)
    pauses.terminator_seen()
    assert [pauses.after(UNFINISHED_SCAN_S) for _ in range(3)] == ["drop", "drop", "end"]
    pauses.terminator_seen()
    assert pauses.after(UNFINISHED_SCAN_S) == "drop"
    pauses.terminator_seen()  # a scan with Enter in between: the count starts again
    assert pauses.after(UNFINISHED_SCAN_S) == "drop"
    always = ScanPauses(None)  # a serial scanner without silence_ms: always a terminator
    assert [always.after(UNFINISHED_SCAN_S) for _ in range(3)] == ["drop"] * 3
    assert always.after(1.0) is None


# --- SYN_DROPPED -----------------------------------------------------------------------------

def test_lost_events_drop_the_scan_and_the_keys_held_are_read_again():
    device = Keys()
    keys = stream(device)
    scan = key_events("]F0A33520000123453B", 1.0)
    shift_up = next(i for i, ev in enumerate(scan)
                    if (ev.code, ev.value) == (e.KEY_LEFTSHIFT, 0) and i > len(scan) - 12)
    before = scan[:shift_up]
    # The kernel dropped the rest (Shift's release, Enter): SYN_DROPPED, then the newest
    # event and the SYN_REPORT that ends its frame.
    newest = scan[-2:]
    assert keys.feed(before, now=1.1) == []
    device.held = set()  # the real state: nothing held
    lost = keys.feed([syn(e.SYN_DROPPED, 1.2), *newest], now=1.2)
    assert [(d.text, d.end, d.problems) for d in lost] == [
        ("]F0A33520000123453B", "lost", (LOST_EVENTS,))]
    assert device.asked == 1 and keys.decoder.held == set()
    assert texts(keys.feed(key_events("30234000517861", 3.0), now=3.0)) == [
        ("30234000517861", "enter")]  # not "#)@#$)))%!&*^!"


def test_events_up_to_the_next_syn_report_are_discarded_even_across_reads():
    device = Keys()
    keys = stream(device)
    a_down = InputEvent(1, 0, e.EV_KEY, e.KEY_A, 1)
    assert texts(keys.feed([syn(e.SYN_DROPPED, 1.0), a_down], now=1.0)) == [("", "lost")]
    assert device.asked == 0
    keys.feed([InputEvent(1, 1000, e.EV_KEY, e.KEY_B, 1)], now=1.0)  # still the broken frame
    device.held = {e.KEY_LEFTSHIFT}  # Shift really is down now
    keys.feed([syn(e.SYN_REPORT, 1.0)], now=1.0)
    assert device.asked == 1 and keys.decoder.held == {e.KEY_LEFTSHIFT}
    assert not keys.decoder.pending  # neither A nor B was typed


def test_the_rest_of_a_scan_that_lost_events_is_never_taken_for_a_code():
    keys = stream()
    scan = key_events("33520000123453", 1.0)
    keys.feed(scan[:12], now=1.0)  # "335"
    lost = keys.feed([syn(e.SYN_DROPPED, 1.05), syn(e.SYN_REPORT, 1.05)], now=1.05)
    assert texts(lost) == [("335", "lost")]
    assert keys.feed(scan[30:], now=1.1) == []  # "...123453" and Enter: a fragment, dropped
    assert texts(keys.feed(key_events("23520001234566", 2.0), now=2.0)) == [
        ("23520001234566", "enter")]


def test_after_lost_events_a_pause_starts_a_new_scan():
    keys = stream()
    keys.feed(key_events("111", 1.0), now=1.0)
    keys.feed([syn(e.SYN_DROPPED, 2.0), syn(e.SYN_REPORT, 2.0)], now=2.0)
    keys.feed(key_events("99", 2.001, end=None), now=2.01)  # the rest of what was lost
    assert keys.expire(2.01 + SILENCE_S) == []  # dropped quietly: counted once already
    assert not keys.pending
    # Or, read in one go, the kernel's timestamps show the pause.
    keys.feed([syn(e.SYN_DROPPED, 3.0), syn(e.SYN_REPORT, 3.0)], now=3.0)
    batch = key_events("88", 3.001, end=None) + key_events("23520001234566", 3.5)
    assert texts(keys.feed(batch, now=3.6)) == [("23520001234566", "enter")]
