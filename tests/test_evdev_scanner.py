"""The keyboard-wedge scanner driver's own thread, fed real InputEvents by SimInputDevices."""

from __future__ import annotations

import logging
import queue
import time

import pytest
from evdev import InputEvent
from evdev import ecodes as e

from drivers.errors import SourceError
from drivers.evdev_scanner import EvdevScanner
from drivers.events import BarcodeRead, CardRead, DeviceFault
from drivers.settings import DriverSettings
from drivers.sim.evdev_device import SimInputDevice
from drivers.source import parse
from tests.driver_events import kind, state, until

HONEYWELL = dict(vendor=0x0C2E, product=0x0B61)


class Plug:
    """What is plugged in: the opener hands out whatever `devices` holds at the time."""

    def __init__(self, *devices: SimInputDevice) -> None:
        self.devices = list(devices)

    def __call__(self) -> list[SimInputDevice]:
        return list(self.devices)


@pytest.fixture
def scanner():
    made = []

    def make(*devices, source="evdev:0c2e:0b61", plug=None):
        events = queue.Queue()
        plug = plug or Plug(*devices)
        driver = EvdevScanner("scanner", events, parse(source), DriverSettings(), opener=plug)
        driver.retry_delays = (0.05,)
        made.append(driver)
        driver.start()
        connected = until(events, state("connected"))[-1]
        return driver, events, connected

    yield make
    for driver in made:
        driver.close()


def test_a_scan_ended_by_enter_is_read_and_the_node_is_grabbed(scanner):
    sim = SimInputDevice(**HONEYWELL)
    driver, events, connected = scanner(sim)
    assert connected.detail == "Simulated scanner (0c2e:0b61), 1 node"
    assert sim.grabbed and sim.history == ["grab"]
    sim.type("]F0A33520000123453B")
    assert until(events, kind(BarcodeRead)) == [
        BarcodeRead("scanner", "33520000123453", "codabar", "item")]
    began = time.monotonic()
    driver.close()
    assert time.monotonic() - began < 1.0  # serve() notices close() within its 0.1 s poll
    assert sim.history == ["grab", "ungrab", "close"] and not sim.grabbed


def test_silence_ends_a_scan_without_enter_and_tab_ends_one(scanner):
    sim = SimInputDevice(**HONEYWELL)
    _, events, _ = scanner(sim)
    sim.type("9780306406157", end=None)
    assert until(events, kind(BarcodeRead)) == [
        BarcodeRead("scanner", "9780306406157", None, "isbn")]
    sim.type("23520001234566", end="tab")
    assert until(events, kind(BarcodeRead)) == [
        BarcodeRead("scanner", "23520001234566", None, "patron")]


def test_a_pause_inside_a_scan_does_not_split_it_once_the_scanner_sent_enter(scanner):
    sim = SimInputDevice(**HONEYWELL)
    _, events, _ = scanner(sim)
    sim.type("33520000123453")
    until(events, kind(BarcodeRead))
    sim.type("2352000", end=None)
    time.sleep(0.15)  # a wireless scanner's pause, well past silence_ms (80)
    sim.type("1234566")
    assert until(events, kind(BarcodeRead)) == [
        BarcodeRead("scanner", "23520001234566", None, "patron")]


def test_lost_events_drop_the_scan_and_a_stuck_shift_garbles_nothing_after(scanner):
    sim = SimInputDevice(**HONEYWELL)
    driver, events, _ = scanner(sim)
    scan = sim.key_events("]F0A33520000123453B")
    shift_up = max(i for i, ev in enumerate(scan) if (ev.code, ev.value) == (e.KEY_LEFTSHIFT, 0))
    sim.send_events(scan[:shift_up])
    sim.overflow(scan[shift_up:])  # Shift's release and Enter never reach the driver
    assert until(events, kind(DeviceFault)) == [DeviceFault(
        "scanner", "scan dropped: the kernel dropped input events (SYN_DROPPED); "
                   "keys held read again", 1)]
    time.sleep(0.1)  # the patron scans again
    sim.type("30234000517861")
    assert until(events, kind(BarcodeRead)) == [
        BarcodeRead("scanner", "30234000517861", None, "item")]  # not "#)@#$)))%!&*^!"
    assert driver.faults == 1


def test_the_rest_of_a_scan_that_lost_events_is_not_read_as_a_code(scanner):
    sim = SimInputDevice(**HONEYWELL)
    driver, events, _ = scanner(sim)
    scan = sim.key_events("33520000123453")
    sim.send_events(scan[:16])
    sim.overflow(scan[16:32], then=scan[32:])  # "3352", lost keys, then "123453" and Enter
    until(events, kind(DeviceFault))
    time.sleep(0.1)
    sim.type("23520001234566")
    assert until(events, kind(BarcodeRead)) == [
        BarcodeRead("scanner", "23520001234566", None, "patron")]
    assert driver.faults == 1


def test_every_keyboard_node_of_the_scanner_is_opened_and_read(scanner):
    keyboard = SimInputDevice("/dev/input/event3", **HONEYWELL)
    consumer = SimInputDevice("/dev/input/event4", keys=False, **HONEYWELL)
    second = SimInputDevice("/dev/input/event5", **HONEYWELL)
    other = SimInputDevice("/dev/input/event6", name="Office keyboard", vendor=0x046D,
                           product=0xC31C)
    _, events, connected = scanner(keyboard, consumer, second, other)
    assert connected.detail == "Simulated scanner (0c2e:0b61), 2 nodes"
    assert keyboard.grabbed and second.grabbed
    assert consumer.history == other.history == ["close"]  # not ours: closed at once
    second.type("33520000456788")
    assert until(events, kind(BarcodeRead))[-1].data == "33520000456788"
    keyboard.type("33520000789014")
    assert until(events, kind(BarcodeRead))[-1].data == "33520000789014"


def test_unplugged_is_lost_and_plugged_again_reads_again(scanner):
    sim = SimInputDevice(**HONEYWELL)
    plug = Plug(sim)
    driver, events, _ = scanner(plug=plug)
    plug.devices = []
    sim.unplug()
    assert until(events, state("lost"))[-1].detail == "No such device"
    assert "close" in sim.history
    fresh = SimInputDevice(**HONEYWELL)
    plug.devices = [fresh]
    until(events, state("connected"))
    assert fresh.grabbed and driver.status == "connected"
    fresh.type("33520000123453")
    assert until(events, kind(BarcodeRead))[-1].data == "33520000123453"


def test_garbage_is_a_counted_fault_and_the_next_scan_is_read(scanner):
    sim = SimInputDevice(**HONEYWELL)
    driver, events, _ = scanner(sim)
    sim.type("3352", end=None)
    sim.tap(e.KEY_F13)
    sim.type("0000123453")
    assert until(events, kind(DeviceFault)) == [
        DeviceFault("scanner", "scan dropped: unknown key KEY_F13", 1)]
    sim.type("2352", end=None)
    sim.tap(e.KEY_RIGHTBRACE, e.KEY_LEFTCTRL)  # Ctrl+] types GS, a control character
    sim.type("0001234566")
    assert until(events, kind(DeviceFault)) == [
        DeviceFault("scanner", "control character 0x1D in a scan", 2)]
    sim.type("33520000456788")
    assert until(events, kind(BarcodeRead))[-1].data == "33520000456788"
    assert driver.status == "connected" and driver.faults == 2


def test_a_node_by_path_that_cannot_type_is_refused(scanner):
    events = queue.Queue()
    consumer = SimInputDevice("/dev/input/event4", keys=False)
    driver = EvdevScanner("scanner", events, parse("evdev:/dev/input/event4"), DriverSettings(),
                          opener=Plug(consumer))
    driver.start()
    try:
        lost = until(events, state("lost"))[-1]
    finally:
        driver.close()
    assert lost.detail == "/dev/input/event4 does not type letters and digits"
    assert not consumer.grabbed


@pytest.mark.parametrize("layout", ["de", "fr"])
def test_a_scanner_programmed_for_another_layout(scanner, layout):
    sim = SimInputDevice(**HONEYWELL)
    _, events, _ = scanner(sim, source=f"evdev:0c2e:0b61?layout={layout}&debounce=0")
    sim.type("]Q1ECARD:Zy-42/@", layout=layout)
    sim.type("33520000123453", layout=layout, keypad_digits=True)
    reads = [ev for ev in until(events, lambda ev: isinstance(ev, BarcodeRead)
                                and ev.kind == "item") if isinstance(ev, BarcodeRead)]
    assert reads == [BarcodeRead("scanner", "ECARD:Zy-42/@", "qr", "ecard"),
                     BarcodeRead("scanner", "33520000123453", None, "item")]


def test_a_test_thread_held_up_while_typing_stamps_no_pause_into_the_scan(scanner, monkeypatch):
    """The simulator stamps a scan's reports REPORT_S apart, as the scanner sends them, even
    when the thread making them is held up (a busy CI machine) between two of them."""
    from drivers.sim import evdev_device
    sim = SimInputDevice(**HONEYWELL)
    _, events, _ = scanner(sim, source="evdev:0c2e:0b61?debounce=0")
    held_up = iter(range(10**6))
    monkeypatch.setattr(evdev_device.time, "time", lambda: time.monotonic() + next(held_up))
    sim.type("33520000123453", end=None)
    assert until(events, kind(BarcodeRead)) == [BarcodeRead("scanner", "33520000123453", None,
                                                            "item")]


def test_a_card_reader_that_types(scanner):
    sim = SimInputDevice(**HONEYWELL)
    _, events, _ = scanner(sim, source="evdev:0c2e:0b61?role=card")
    sim.type("0004567890")
    assert until(events, kind(CardRead)) == [CardRead("scanner", "0004567890")]


def test_the_simulator_sends_what_the_kernel_sends_for_a_shifted_key():
    sim = SimInputDevice()
    sim.type("A", end=None)
    assert sim.active_keys() == []
    got = [(ev.type, ev.code, ev.value) for ev in sim.read()]
    assert got == [(e.EV_MSC, e.MSC_SCAN, 0x700E1), (e.EV_KEY, e.KEY_LEFTSHIFT, 1),
                   (e.EV_MSC, e.MSC_SCAN, 0x70004), (e.EV_KEY, e.KEY_A, 1),
                   (e.EV_SYN, e.SYN_REPORT, 0),
                   (e.EV_MSC, e.MSC_SCAN, 0x70004), (e.EV_KEY, e.KEY_A, 0),
                   (e.EV_MSC, e.MSC_SCAN, 0x700E1), (e.EV_KEY, e.KEY_LEFTSHIFT, 0),
                   (e.EV_SYN, e.SYN_REPORT, 0)]
    with pytest.raises(BlockingIOError):
        list(sim.read())
    sim.unplug()
    with pytest.raises(OSError) as raised:
        list(sim.read())
    assert raised.value.errno == 19  # ENODEV
    sim.close()


@pytest.mark.parametrize("text, message", [
    ("evdev:0c2e:0b61?baud=9600", "unknown option 'baud'"),
    ("evdev:scanner", "a device path"),
    ("evdev:0c2e:0b61?layout=uk", "layout must be one of us, de, fr"),
    ("evdev:0c2e:0b61?silence_ms=2", "silence_ms must be between 10 and 5000"),
])
def test_bad_sources_fail_when_built(text, message):
    with pytest.raises(SourceError, match=message):
        EvdevScanner("scanner", queue.Queue(), parse(text), DriverSettings(), opener=Plug())


def test_patron_numbers_never_reach_the_log_whole(scanner, caplog):
    caplog.set_level(logging.DEBUG, logger="drivers")
    sim = SimInputDevice(**HONEYWELL)
    _, events, _ = scanner(sim)
    sim.type("23520001234566")
    until(events, kind(BarcodeRead))
    assert "**********4566" in caplog.text
    assert "23520001234566" not in caplog.text


def test_a_pause_the_kernel_saw_ends_a_scan_even_when_read_in_one_batch(scanner):
    sim = SimInputDevice(**HONEYWELL)
    _, events, _ = scanner(sim)
    start = time.time()

    def keys(digits: str, at: float) -> list[InputEvent]:
        out = []
        for n, digit in enumerate(digits):
            code = getattr(e, f"KEY_{digit}")
            sec, usec = int(at + n * 0.002), int((at + n * 0.002) % 1 * 1e6)
            out += [InputEvent(sec, usec, e.EV_KEY, code, value) for value in (1, 0)]
        return out

    sim.send_events(keys("111", start) + keys("222", start + 0.5))  # no Enter on either
    reads = [ev for ev in until(events, lambda ev: isinstance(ev, BarcodeRead)
                                and ev.data == "222") if isinstance(ev, BarcodeRead)]
    assert [r.data for r in reads] == ["111", "222"]
