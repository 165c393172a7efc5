"""Barcode decoding, pure: key events to text, AIM and Codabar wrappers, classification, and the
checks and debounce every scan passes (drivers.barcode)."""

from __future__ import annotations

import logging

import pytest
from evdev import InputEvent
from evdev import ecodes as e

from drivers.barcode.classify import classify, is_ean13, is_isbn10, luhn_ok
from drivers.barcode.keymap import KeyDecoder, Stroke, Typed, strokes
from drivers.barcode.reading import ScanReading, mask
from drivers.barcode.symbology import split
from drivers.events import BarcodeRead, CardRead
from drivers.settings import BarcodeRules

DOWN, UP, REPEAT = 1, 0, 2


# --- hand-written event sequences, as the kernel delivers them ----------------------------

def key(code: int, value: int, t: float = 0.0) -> InputEvent:
    return InputEvent(int(t), int(t % 1 * 1e6), e.EV_KEY, code, value)


def syn() -> InputEvent:
    return InputEvent(0, 0, e.EV_SYN, e.SYN_REPORT, 0)


def msc(usage: int) -> InputEvent:
    return InputEvent(0, 0, e.EV_MSC, e.MSC_SCAN, usage)


def tap(code: int, *held: int) -> list[InputEvent]:
    """`code` pressed and released while `held` keys are down, one SYN per report."""
    return ([key(h, DOWN) for h in held] + [syn(), key(code, DOWN), syn(), key(code, UP), syn()]
            + [key(h, UP) for h in reversed(held)] + ([syn()] if held else []))


def decode(events: list[InputEvent], layout: str = "us") -> list[Typed]:
    decoder = KeyDecoder(layout)
    scans = [decoder.feed(event) for event in events]
    rest = decoder.finish()
    return [s for s in scans if s is not None] + ([rest] if rest else [])


def test_capitals_and_symbols_with_left_or_right_shift():
    events = (tap(e.KEY_A, e.KEY_LEFTSHIFT) + tap(e.KEY_B) + tap(e.KEY_1)
              + tap(e.KEY_1, e.KEY_RIGHTSHIFT) + tap(e.KEY_MINUS, e.KEY_LEFTSHIFT)
              + tap(e.KEY_SLASH) + tap(e.KEY_SPACE) + tap(e.KEY_APOSTROPHE, e.KEY_LEFTSHIFT)
              + tap(e.KEY_ENTER))
    assert decode(events) == [Typed('Ab1!_/ "', "enter", (), 13)]  # Shift presses count


def test_only_key_down_types_and_autorepeat_is_ignored():
    events = [msc(0x70004), key(e.KEY_A, DOWN), syn(), key(e.KEY_A, REPEAT), syn(),
              key(e.KEY_A, REPEAT), syn(), msc(0x70004), key(e.KEY_A, UP), syn()] + tap(e.KEY_TAB)
    assert decode(events) == [Typed("a", "tab", (), 2)]


def test_capslock_shifts_letters_only_and_shift_undoes_it():
    events = (tap(e.KEY_CAPSLOCK) + tap(e.KEY_A) + tap(e.KEY_B, e.KEY_LEFTSHIFT) + tap(e.KEY_1)
              + tap(e.KEY_CAPSLOCK) + tap(e.KEY_C) + tap(e.KEY_KPENTER))
    assert [s.text for s in decode(events)] == ["Ab1c"]


def test_keypad_digits_need_numlock_which_starts_on():
    digits = tap(e.KEY_KP3) + tap(e.KEY_KP0) + tap(e.KEY_KPDOT) + tap(e.KEY_KPMINUS)
    assert decode(digits + tap(e.KEY_KPENTER)) == [Typed("30.-", "enter", (), 5)]
    numlock_off = tap(e.KEY_NUMLOCK) + tap(e.KEY_KP7) + tap(e.KEY_KPPLUS) + tap(e.KEY_ENTER)
    [scan] = decode(numlock_off)
    assert scan.text == "+" and scan.problems == ("KEY_KP7 with NumLock off",)
    back_on = tap(e.KEY_NUMLOCK) + tap(e.KEY_NUMLOCK) + tap(e.KEY_KP7) + tap(e.KEY_ENTER)
    assert [s.text for s in decode(back_on)] == ["7"]


def test_a_german_scanner_swaps_y_and_z_and_uses_altgr():
    events = (tap(e.KEY_Y) + tap(e.KEY_Z, e.KEY_LEFTSHIFT) + tap(e.KEY_7, e.KEY_LEFTSHIFT)
              + tap(e.KEY_Q, e.KEY_RIGHTALT)  # AltGr+Q
              + tap(e.KEY_Q, e.KEY_LEFTCTRL, e.KEY_LEFTALT)  # what Windows takes for AltGr
              + tap(e.KEY_SLASH) + tap(e.KEY_KPDOT)
              + tap(e.KEY_GRAVE) + tap(e.KEY_SPACE)  # dead ^, then space: a plain ^
              + tap(e.KEY_ENTER))
    assert [s.text for s in decode(events, "de")] == ["zY/@@-,^"]


def test_a_french_azerty_scanner_sends_digits_shifted():
    events = (tap(e.KEY_3, e.KEY_LEFTSHIFT) + tap(e.KEY_3) + tap(e.KEY_0, e.KEY_LEFTSHIFT)
              + tap(e.KEY_Q) + tap(e.KEY_W, e.KEY_LEFTSHIFT) + tap(e.KEY_SEMICOLON)
              + tap(e.KEY_0, e.KEY_RIGHTALT) + tap(e.KEY_M, e.KEY_LEFTSHIFT) + tap(e.KEY_ENTER))
    assert [s.text for s in decode(events, "fr")] == ['3"0aZm@?']
    [scan] = decode(tap(e.KEY_GRAVE, e.KEY_LEFTSHIFT) + tap(e.KEY_ENTER), "fr")
    assert scan.problems == ("no character for Shift+KEY_GRAVE in layout fr",)


def test_unknown_keys_alt_and_ctrl_are_problems_of_their_scan_not_crashes():
    events = (tap(e.KEY_1) + tap(e.KEY_F5) + tap(0x2F0) + tap(e.KEY_ENTER)
              + tap(e.KEY_A, e.KEY_LEFTALT) + tap(e.KEY_TAB)
              + tap(e.KEY_RIGHTBRACE, e.KEY_LEFTCTRL) + tap(e.KEY_2) + tap(e.KEY_ENTER))
    first, second, third = decode(events)
    assert first.text == "1" and first.problems == ("unknown key KEY_F5", "unknown key key 752")
    assert second.problems == ("Alt or Meta with KEY_A",)
    assert third == Typed("\x1d2", "enter", (), 4)  # Ctrl+] is GS, refused later


def test_a_scan_without_enter_ends_when_asked_and_an_idle_decoder_has_nothing():
    decoder = KeyDecoder()
    assert decoder.finish() is None
    for event in tap(e.KEY_4) + tap(e.KEY_2):
        assert decoder.feed(event) is None
    assert decoder.pending
    assert decoder.finish() == Typed("42", "silence", (), 2)
    assert not decoder.pending and decoder.finish() is None


def test_strokes_are_the_inverse_of_the_tables():
    assert strokes("a1", "fr") == [Stroke(e.KEY_Q), Stroke(e.KEY_1, shift=True)]
    assert strokes("@", "de") == [Stroke(e.KEY_Q, altgr=True)]
    assert strokes("^", "de") == [Stroke(e.KEY_GRAVE), Stroke(e.KEY_SPACE)]  # dead, then space
    assert strokes("^", "fr") == [Stroke(e.KEY_9, altgr=True)]  # a live ^ beats the dead one
    assert strokes("10", keypad_digits=True) == [Stroke(e.KEY_KP1), Stroke(e.KEY_KP0)]
    with pytest.raises(ValueError, match="layout us cannot type 'é'"):
        strokes("é")


# --- AIM identifiers and Codabar start/stop -----------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("]F0A33520000123453B", ("33520000123453", "codabar")),
    ("A33520000123453B", ("33520000123453", "codabar")),  # scanner set to send no AIM id
    ("c23520001234566d", ("23520001234566", "codabar")),
    ("A33520000123453T", ("33520000123453", "codabar")),  # Datalogic's ABCD/TN*E format
    ("]F0E33520000123453*", ("33520000123453", "codabar")),
    ("]F033520000123453", ("33520000123453", "codabar")),  # start/stop not transmitted
    ("3 3520 00012 3453", ("33520000123453", "codabar")),  # "CLSI library" editing
    ("]F0A3 3520 00012 3453B", ("33520000123453", "codabar")),
    ("3 3520 00012 3453B", ("3 3520 00012 3453B", None)),  # a stop without a start
    ("]A0LIB-00123", ("LIB-00123", "code39")),
    ("]A0*LIB-00123*", ("LIB-00123", "code39")),
    ("]C0LIB00123", ("LIB00123", "code128")),
    ("]C10109501101530003", ("0109501101530003", "gs1-128")),
    ("]E09787020002207", ("9787020002207", "ean13")),
    ("]E455123457", ("55123457", "ean8")),
    ("]E3978030640615790000", ("978030640615790000", "ean13+addon")),
    ("]Q1ECARD:7f3a", ("ECARD:7f3a", "qr")),
    ("]d1LIB00123", ("LIB00123", "datamatrix")),
    ("]d2010950110153000310ABC", ("010950110153000310ABC", "gs1-datamatrix")),
    ("]X00306406152", ("0306406152", "other")),
    ("33520000123453", ("33520000123453", None)),
    ("ABC123", ("ABC123", None)),  # Code 39 data is not Codabar
    ("A123", ("A123", None)),  # no stop character
    ("]W1abc", ("]W1abc", None)),  # no such AIM code letter: left alone
])
def test_aim_identifiers_and_codabar_wrappers_are_stripped(raw, expected):
    assert split(raw) == expected


# --- classification -----------------------------------------------------------------------

RULES = BarcodeRules()  # patron 2..., item 3..., 14 digits, Luhn


def test_published_check_values():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")  # Luhn's worked example
    assert luhn_ok("4111111111111111")
    assert is_ean13("4006381333931") and not is_ean13("4006381333932")  # EAN-13's example
    assert is_ean13("9780306406157")  # ISBN 978-0-306-40615-7
    assert is_isbn10("0306406152") and not is_isbn10("0306406153")  # ISBN 0-306-40615-2
    assert is_isbn10("080442957X") and is_isbn10("080442957x")
    assert not luhn_ok("１２") and not is_ean13("９７８０３０６４０６１５７")  # full-width digits


@pytest.mark.parametrize("data, symbology, kind", [
    ("33520000123453", "codabar", "item"),
    ("23520001234566", None, "patron"),
    ("33520000123454", "codabar", "unknown"),  # check digit wrong
    ("335200001234534", "codabar", "unknown"),  # 15 digits
    ("43520000123451", "codabar", "unknown"),  # Luhn-valid, but no such prefix
    ("9780306406157", None, "isbn"),
    ("9780306406157", "ean13", "isbn"),
    ("9780306406158", "ean13", "unknown"),
    ("4006381333931", None, "isbn"),  # an EAN-13 that is no book: still a cover, not a copy
    ("036000291452", "ean13", "isbn"),  # UPC-A sent without its leading 0
    ("978030640615790000", "ean13+addon", "isbn"),
    ("55123457", "ean8", "unknown"),
    ("3352000012345", None, "isbn"),  # 13 digits that happen to be a valid EAN-13
    ("0306406152", None, "isbn"),
    ("080442957X", "other", "isbn"),
    ("0306406152", "code128", "unknown"),  # a label that is not a cover's code
    ("ECARD:7f3a9c", None, "ecard"),
    ("https://library.example/e/7f3a9c", "qr", "ecard"),
    ("LIB-00123", "code39", "unknown"),
])
def test_classification_with_the_default_rules(data, symbology, kind):
    assert classify(data, symbology, RULES) == kind


def test_an_ean_is_never_an_item_unless_the_scanner_says_it_is_a_label():
    rules = BarcodeRules(item_prefixes=("3",), length=13, check_digit="none")
    assert classify("3006381333932", None, rules) == "isbn"
    assert classify("3006381333932", "ean13", rules) == "isbn"
    assert classify("3006381333932", "codabar", rules) == "item"


def test_rules_any_length_no_check_and_the_longest_prefix():
    rules = BarcodeRules(patron_prefixes=("P", "2"), item_prefixes=("23",), length=0,
                         check_digit="none")
    assert classify("P0042", "code39", rules) == "patron"
    assert classify("2999", "code39", rules) == "patron"
    assert classify("2399", "code39", rules) == "item"
    assert classify("79927398713", None, BarcodeRules(patron_prefixes=("7",), length=0)) \
        == "patron"


# --- the reading: checks, split, classify, debounce ---------------------------------------

class Faults(list):
    def __call__(self, detail: str) -> None:
        self.append(detail)


def reading(role: str = "barcode", debounce_s: float = 2.0) -> tuple[ScanReading, Faults]:
    faults = Faults()
    return ScanReading("scanner", role, RULES, debounce_s, faults), faults


def test_the_same_code_within_the_window_counts_once_measured_from_its_last_sighting():
    r, faults = reading(debounce_s=2.0)
    item = BarcodeRead("scanner", "33520000123453", "codabar", "item")
    assert r.take("]F0A33520000123453B", now=100.0) == item
    assert r.take("]F0A33520000123453B", now=101.0) is None
    assert r.take("]F0A33520000123453B", now=102.5) is None  # held under the scanner
    assert r.take("]F0A33520000123453B", now=104.6) == item
    assert r.take("23520001234566", now=104.7).kind == "patron"  # another code
    assert r.take("]F0A33520000123453B", now=104.8) == item  # a different code came between
    assert faults == []


def test_without_debounce_every_scan_counts():
    r, _ = reading(debounce_s=0)
    assert r.take("23520001234566", 5.0) == r.take("23520001234566", 5.0) \
        == BarcodeRead("scanner", "23520001234566", None, "patron")


@pytest.mark.parametrize("raw, fault", [
    ("", "an empty scan"),
    ("   ", "an empty scan"),
    ("9" * 513, "a scan of 513 characters (at most 512)"),
    ("2352\x1d0001234566", "control character 0x1D in a scan"),
    ("2352000123\x7f", "control character 0x7F in a scan"),
    ("]E0", "a scan with no data"),
])
def test_bad_scans_are_counted_faults(raw, fault):
    r, faults = reading()
    assert r.take(raw, 1.0) is None
    assert faults == [fault]


def test_a_512_character_qr_code_passes():
    r, faults = reading()
    payload = "ECARD:" + "x" * 503
    assert r.take("]Q1" + payload, 1.0) == BarcodeRead("scanner", payload, "qr", "ecard")
    assert faults == []


def test_a_card_reader_gives_the_stripped_line_unclassified():
    r, faults = reading(role="card")
    assert r.take("  04A1B2C3 ", 1.0) == CardRead("scanner", "04A1B2C3")
    assert r.take("04A1B2C3", 1.5) is None  # debounced like a scan
    assert r.take("04\x02A1", 9.0) is None and faults == ["control character 0x02 in a scan"]


def test_codes_are_masked_in_every_log_line(caplog):
    caplog.set_level(logging.DEBUG, logger="drivers")
    r, _ = reading()
    r.take("23520001234566", 1.0)
    r.take("23520001234566", 1.1)
    assert mask("23520001234566") == "**********4566" and mask("123") == "***"
    assert "**********4566" in caplog.text and "23520001234566" not in caplog.text
