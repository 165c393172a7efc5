"""Serial scanners and card readers: the line splitter alone, then the driver on a real pty."""

from __future__ import annotations

import logging
import os
import queue
import time

import pytest

from drivers.barcode.pauses import NOISE_GAP_S
from drivers.errors import SourceError
from drivers.events import BarcodeRead, CardRead, DeviceFault
from drivers.serial_lines import Dropped, LineSplitter, SerialLineDriver
from drivers.settings import DriverSettings
from drivers.sim.line_device import LineDevice
from drivers.source import parse
from tests.driver_events import kind, state, until

ITEM = "33520000123453"
PATRON = "23520001234566"
PARTIAL = Dropped("partial line dropped after 2 s without an end of line")
TOO_LONG = Dropped("line longer than 512 characters dropped")


# --- the splitter, pure -------------------------------------------------------------------

def test_cr_lf_and_crlf_all_end_lines_and_blank_lines_are_skipped():
    splitter = LineSplitter()
    assert splitter.feed(b"111\r222\n333\r\n\r\n444\n\n", 0.0) == ["111", "222", "333", "444"]


def test_any_split_of_the_chunks_gives_the_same_lines():
    wire = f"{ITEM}\r\n{PATRON}\r\n9780306406157\n".encode()
    for cut in range(len(wire) + 1):
        splitter = LineSplitter()
        lines = splitter.feed(wire[:cut], 0.0) + splitter.feed(wire[cut:], 0.01)
        assert lines == [ITEM, PATRON, "9780306406157"], cut


def test_a_partial_line_after_two_seconds_of_silence_is_dropped():
    splitter = LineSplitter()
    assert splitter.feed(b"3352", 10.0) == []
    assert splitter.expire(11.9) == []
    assert splitter.expire(12.1) == [PARTIAL]
    assert splitter.expire(20.0) == []
    assert splitter.feed(b"0000\r", 20.0) == ["0000"]
    splitter.feed(b"3352", 30.0)
    assert splitter.feed(b"99\r", 32.5) == [PARTIAL, "99"]  # the pause came before the chunk


def test_with_silence_set_a_pause_ends_the_line():
    splitter = LineSplitter(end_after_s=0.05)
    assert splitter.feed(ITEM.encode(), 1.0) == []
    assert splitter.expire(1.04) == []
    assert splitter.expire(1.05) == [ITEM]


def test_with_silence_set_a_pause_no_longer_splits_lines_once_one_ended_with_cr():
    splitter = LineSplitter(end_after_s=0.05)
    assert splitter.feed(f"{PATRON}\r".encode(), 1.0) == [PATRON]
    assert splitter.feed(b"3352000", 2.0) == []
    assert splitter.expire(2.12) == []  # a 120 ms pause inside the scan
    assert splitter.feed(b"0123453\r", 2.12) == [ITEM]
    splitter.feed(b"3352", 3.0)
    assert splitter.expire(5.0) == [PARTIAL]  # unfinished: dropped, never emitted


def test_an_over_long_line_is_dropped_once_and_the_next_line_is_read():
    splitter = LineSplitter()
    assert splitter.feed(b"9" * 512 + b"\r", 0.0) == ["9" * 512]
    pieces = [splitter.feed(b"8" * 100, 0.1 + n / 100) for n in range(10)]
    assert sum(pieces, []) == [TOO_LONG]
    assert splitter.feed(b"888\r" + ITEM.encode() + b"\r", 0.3) == [ITEM]


def test_after_600_bytes_without_a_line_end_and_a_pause_the_next_line_is_read():
    splitter = LineSplitter()
    assert splitter.feed(b"7" * 600, 1.0) == [TOO_LONG]
    assert splitter.feed(ITEM.encode() + b"\r", 1.01 + NOISE_GAP_S) == [ITEM]


@pytest.mark.parametrize("noise, dropped", [
    (b"\x00", "1 byte of noise dropped"),
    (b"\xff\xfe", "2 bytes of noise dropped"),
    (b"\x1b\x00\xff\x7f", "4 bytes of noise dropped"),
])
def test_noise_without_a_line_end_does_not_cost_the_next_line(noise, dropped):
    splitter = LineSplitter()
    assert splitter.feed(noise + ITEM.encode() + b"\r\n", 0.0) == [Dropped(dropped), ITEM]
    assert splitter.feed(noise, 1.0) + splitter.feed(PATRON.encode() + b"\r", 1.01) == [
        Dropped(dropped), PATRON]


def test_noise_that_cuts_into_a_line_drops_that_line_up_to_its_end_or_a_pause():
    splitter = LineSplitter()
    assert splitter.feed(b"33\xff\xfe20\r", 0.0) == [Dropped("line with 2 bytes of noise dropped")]
    assert splitter.feed("café\r".encode(), 0.1) == [
        Dropped("line with 2 bytes of noise dropped")]
    assert splitter.feed(b"\x80\n" + ITEM.encode() + b"\n", 0.2) == [
        Dropped("1 byte of noise dropped"), ITEM]
    assert splitter.feed(b"3352\x00", 1.0) == []
    assert splitter.feed(ITEM.encode() + b"\r", 1.01 + NOISE_GAP_S) == [
        Dropped("line with 1 byte of noise dropped"), ITEM]


# --- the driver on a pty ------------------------------------------------------------------

@pytest.fixture
def line_device(tmp_path):
    made = []

    def make(options: str = "debounce=0", *, baud: int | None = None):
        twin = LineDevice(tmp_path / f"scanner{len(made)}", baud=baud).start()
        events = queue.Queue()
        driver = SerialLineDriver("scanner", events, parse(f"serial:{twin.link}?{options}"),
                                  DriverSettings())
        driver.retry_delays = (0.05,)
        made.append((driver, twin))
        driver.start()
        connected = until(events, state("connected"))[-1]
        assert connected.detail.startswith(os.path.realpath(twin.link))
        return twin, driver, events

    yield make
    for driver, twin in made:
        driver.close()
        twin.close()


def test_lines_ended_by_cr_lf_or_crlf_become_reads(line_device):
    twin, _, events = line_device()
    twin.send_line(f"]F0A{ITEM}B")
    twin.send_line(PATRON, b"\n")
    twin.send_line("9780306406157", b"\r\n")
    reads = [ev for ev in until(events, lambda ev: isinstance(ev, BarcodeRead)
                                and ev.kind == "isbn") if isinstance(ev, BarcodeRead)]
    assert reads == [BarcodeRead("scanner", ITEM, "codabar", "item"),
                     BarcodeRead("scanner", PATRON, None, "patron"),
                     BarcodeRead("scanner", "9780306406157", None, "isbn")]


def test_a_line_trickling_in_at_9600_baud_is_one_read(line_device):
    twin, _, events = line_device(baud=9600)
    twin.send_raw(f"{ITEM}\r\n".encode(), chunk=1)
    assert until(events, kind(BarcodeRead)) == [BarcodeRead("scanner", ITEM, None, "item")]


def test_garbage_is_a_fault_and_the_next_line_is_read(line_device):
    twin, driver, events = line_device()
    twin.send_raw(b"33\xff\xfe\x00garbage\r")
    twin.send_raw(b"7" * 600 + b"\r\n")
    twin.send_line("33\x0220")
    twin.send_line(ITEM)
    got = until(events, kind(BarcodeRead))
    assert got == [DeviceFault("scanner", "line with 3 bytes of noise dropped", 1),
                   DeviceFault("scanner", "line longer than 512 characters dropped", 2),
                   DeviceFault("scanner", "line with 1 byte of noise dropped", 3),
                   BarcodeRead("scanner", ITEM, None, "item")]
    assert driver.status == "connected"


@pytest.mark.parametrize("noise, pause", [(b"\x00", 0), (b"\xff\xfe", 0), (b"7" * 600, 0.25)])
def test_noise_without_a_line_end_then_a_valid_code_gives_the_code(line_device, noise, pause):
    twin, driver, events = line_device()
    twin.send_raw(noise)
    time.sleep(pause)  # 600 bytes and a code at once cannot be told apart: a pause can
    twin.send_line(ITEM)
    got = until(events, kind(BarcodeRead))
    assert got[-1] == BarcodeRead("scanner", ITEM, None, "item")
    assert [type(event) for event in got] == [DeviceFault, BarcodeRead]


def test_a_partial_line_left_by_a_pause_is_a_fault(line_device):
    twin, _, events = line_device()
    twin.send_raw(b"3352")
    assert until(events, kind(DeviceFault)) == [DeviceFault("scanner", PARTIAL.detail, 1)]
    twin.send_line(ITEM)
    assert until(events, kind(BarcodeRead))[-1].data == ITEM


def test_a_scanner_without_a_suffix_ends_its_line_by_silence(line_device):
    twin, _, events = line_device("silence_ms=50")
    twin.send_raw(ITEM.encode())
    assert until(events, kind(BarcodeRead)) == [BarcodeRead("scanner", ITEM, None, "item")]


def test_unplugged_is_lost_and_plugged_again_reads_again(line_device):
    twin, driver, events = line_device()
    twin.unplug()
    until(events, state("lost"))
    twin.replug()
    until(events, state("connected"))
    twin.send_line(ITEM)
    assert until(events, kind(BarcodeRead))[-1] == BarcodeRead("scanner", ITEM, None, "item")
    began = time.monotonic()
    driver.close()
    assert time.monotonic() - began < 1.0  # serve() notices close() within its 0.1 s read


def test_a_card_reader_gives_card_reads_debounced(line_device):
    twin, _, events = line_device("role=card&baud=19200")
    twin.send_line(" 04A1B2C3 ", b"\r\n")
    twin.send_line("04A1B2C3", b"\r\n")  # the same card again at once: one read
    twin.send_line("04A1B2C4", b"\r\n")
    got = until(events, lambda ev: isinstance(ev, CardRead) and ev.data == "04A1B2C4")
    assert got == [CardRead("scanner", "04A1B2C3"), CardRead("scanner", "04A1B2C4")]


def test_card_numbers_never_reach_the_log_whole(line_device, caplog):
    caplog.set_level(logging.DEBUG, logger="drivers")
    twin, _, events = line_device("role=card")
    twin.send_line(PATRON)
    until(events, kind(CardRead))
    assert "**********4566" in caplog.text
    assert PATRON not in caplog.text and "4566\\r" not in caplog.text


@pytest.mark.parametrize("text, message", [
    ("serial:/dev/ttyUSB0?layout=de", "unknown option 'layout'"),
    ("serial:/dev/ttyUSB0?baud=fast", "baud must be a number"),
    ("serial:/dev/ttyUSB0?baud=100", "baud must be between 300 and 921600"),
    ("serial:/dev/ttyUSB0?role=printer", "role must be one of barcode, card"),
])
def test_bad_sources_fail_when_built(text, message):
    with pytest.raises(SourceError, match=message):
        SerialLineDriver("scanner", queue.Queue(), parse(text), DriverSettings())
