"""Source strings, the device supervisor, discovery and listen's JSON: the drivers' plumbing."""

from __future__ import annotations

import os
import queue
import threading
import time

import pytest

from drivers import discovery
from drivers.errors import DeviceError, SourceError
from drivers.events import BarcodeRead, DeviceFault, DeviceStatus, ItemSet, Tag, TagsSeen
from drivers.listen_json import as_json
from drivers.rfid.sets import item_sets
from drivers.source import parse
from drivers.supervisor import SupervisedDriver

# --- source strings -----------------------------------------------------------------------

def test_a_source_has_a_scheme_a_target_and_options():
    source = parse("serial:/dev/serial/by-id/usb-X-if00?baud=9600&role=card")
    assert (source.scheme, source.target) == ("serial", "/dev/serial/by-id/usb-X-if00")
    assert source.options == {"baud": "9600", "role": "card"}
    assert source.whole_number("baud", 115200, 1200, 921600) == 9600
    assert source.text_option("role", "barcode", ("barcode", "card")) == "card"


@pytest.mark.parametrize("text, message", [
    ("usb:0", "sources start with 'sim:', 'evdev:'"),
    ("serial:", "nothing after 'serial:'"),
    ("serial:/dev/ttyUSB0?baud", "name=value"),
    ("serial:/dev/ttyUSB0?baud=1&baud=2", "option baud is given twice"),
])
def test_bad_source_strings_say_what_is_wrong(text, message):
    with pytest.raises(SourceError, match=message):
        parse(text)


def test_option_checks_name_the_option_and_the_range():
    source = parse("3m810:/dev/ttyUSB0?poll_ms=20&security=rf&x=1")
    with pytest.raises(SourceError, match="poll_ms must be between 50 and 5000"):
        source.whole_number("poll_ms", 250, 50, 5000)
    with pytest.raises(SourceError, match="security must be one of afi, eas"):
        source.text_option("security", "afi", ("afi", "eas"))
    with pytest.raises(SourceError, match="unknown option 'x'"):
        source.check_options(("poll_ms", "security"))
    assert isinstance(SourceError("x"), ValueError) and isinstance(SourceError("x"), OSError)


# --- the supervisor -----------------------------------------------------------------------

class Flaky(SupervisedDriver):
    """A device that fails to open `refusals` times, then serves `script` one step per session."""

    def __init__(self, events, refusals: int, script: list):
        super().__init__("flaky", events, retry_delays=(0.01, 0.02))
        self.refusals = refusals
        self.script = script
        self.opened = 0
        self.closed = 0

    def connect(self):
        if self.refusals:
            self.refusals -= 1
            raise FileNotFoundError(2, "No such file or directory", "/dev/flaky")
        self.opened += 1
        return self.opened

    def describe(self, handle):
        return f"session {handle}"

    def serve(self, handle):
        step = self.script.pop(0) if self.script else "wait"
        if step == "wait":
            while not self.stopping:
                time.sleep(0.01)
        elif step == "garbage":
            self.fault("line noise")
            raise OSError(5, "Input/output error")
        else:
            raise step

    def disconnect(self, handle):
        self.closed += 1


def take(events: queue.Queue, count: int, timeout: float = 5.0) -> list:
    got, deadline = [], time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        try:
            got.append(events.get(timeout=0.05))
        except queue.Empty:
            pass
    return got


def test_a_device_that_is_not_there_yet_is_lost_then_connected():
    events = queue.Queue()
    driver = Flaky(events, refusals=2, script=[])
    driver.start()
    got = take(events, 2)
    driver.close()
    assert got == [DeviceStatus("flaky", "lost", "No such file or directory /dev/flaky"),
                   DeviceStatus("flaky", "connected", "session 1")]
    assert driver.status == "closed" and driver.closed == 1


def test_an_unplugged_device_is_reported_lost_and_opened_again():
    events = queue.Queue()
    driver = Flaky(events, refusals=0, script=[OSError(19, "No such device")])
    driver.start()
    got = take(events, 3)
    driver.close()
    assert [e.state for e in got] == ["connected", "lost", "connected"]
    assert got[1].detail == "No such device"
    assert driver.opened == 2 and driver.closed == 2


def test_garbage_and_bugs_are_counted_faults_and_the_thread_lives_on():
    events = queue.Queue()
    driver = Flaky(events, refusals=0, script=["garbage", ZeroDivisionError("bug")])
    driver.start()
    got = take(events, 7)
    alive = driver._thread.is_alive()
    driver.close()
    faults = [e for e in got if isinstance(e, DeviceFault)]
    assert [f.count for f in faults] == [1, 2]
    assert faults[0].detail == "line noise" and "driver error: bug" in faults[1].detail
    assert alive and driver.faults == 2
    assert [e.state for e in got if isinstance(e, DeviceStatus)][-1] == "connected"


def test_close_is_quick_idempotent_and_stops_retrying():
    events = queue.Queue()
    driver = Flaky(events, refusals=10**6, script=[])
    driver.retry_delays = (30.0,)  # a long wait that close() must cut short
    driver.start()
    take(events, 1)
    began = time.monotonic()
    driver.close()
    driver.close()
    assert time.monotonic() - began < 2
    assert not any(t.name == "device-flaky" for t in threading.enumerate())


def test_device_errors_are_os_errors_so_drivers_report_them_as_lost():
    assert isinstance(DeviceError("x"), OSError)


# --- multi-part sets and listen's JSON ----------------------------------------------------

def test_item_sets_are_complete_only_with_every_part():
    tags = [Tag("E0040100000000A1", "3001", part=1, parts=3),
            Tag("E0040100000000A3", "3001", part=3, parts=3),
            Tag("E0040100000000B1", "3002"),
            Tag("E0040100000000C1", error="CRC mismatch")]
    sets = item_sets(tags)
    assert sets == (ItemSet("3001", 3, (1, 3)), ItemSet("3002", 1, (1,)))
    assert [s.complete for s in sets] == [False, True]


def test_listen_json_has_the_contracts_fields():
    tag = Tag("E004010000000001", "33520000123453", "CN-430281", "circulating", 1, 2, True,
              "iso28560-3", None)
    assert as_json(TagsSeen("rfid", (tag,), item_sets([tag]))) == {
        "type": "tags", "source": "rfid",
        "tags": [{"uid": "E004010000000001", "item_id": "33520000123453", "isil": "CN-430281",
                  "usage": "circulating", "part": 1, "parts": 2, "secured": True,
                  "model": "iso28560-3", "error": None}],
        "sets": [{"item_id": "33520000123453", "parts": 2, "present": [1], "complete": False}]}
    assert as_json(BarcodeRead("scanner", "9787020002207", "ean13", "isbn")) == {
        "type": "barcode", "source": "scanner", "data": "9787020002207", "symbology": "ean13",
        "kind": "isbn"}
    assert as_json(DeviceStatus("rfid", "lost", "unplugged"))["state"] == "lost"


# --- discovery ----------------------------------------------------------------------------

def test_a_configured_source_finds_its_device_by_path_link_or_usb_id(tmp_path):
    scanner_kbd = discovery.Attached("input", "/dev/input/event3", "Honeywell", 0x0C2E, 0x0B61,
                                     keys=True)
    scanner_ctl = discovery.Attached("input", "/dev/input/event4", "Honeywell", 0x0C2E, 0x0B61)
    reader = discovery.Attached("serial", str(tmp_path / "ttyUSB0"), "FT232R", 0x0403, 0x6001)
    (tmp_path / "ttyUSB0").touch()
    (tmp_path / "kiosk-rfid").symlink_to(tmp_path / "ttyUSB0")
    found = [scanner_kbd, scanner_ctl, reader]
    assert discovery.resolve(parse("evdev:0c2e:0b61"), found) == [scanner_kbd]
    assert discovery.resolve(parse("evdev:/dev/input/event4"), found) == [scanner_ctl]
    assert discovery.resolve(parse(f"3m810:{tmp_path}/kiosk-rfid"), found) == [reader]
    assert discovery.resolve(parse("sim:3m810"), found) == []
    links = discovery._links_by_target((tmp_path,))
    assert links == {os.path.realpath(tmp_path / "ttyUSB0"): [str(tmp_path / "kiosk-rfid")]}


def test_discovery_lists_an_input_node_and_closes_it(monkeypatch):
    # SimInputDevice offers what evdev.InputDevice does, and like it is no context manager.
    from drivers.sim.evdev_device import SimInputDevice
    opened: list[SimInputDevice] = []

    def open_node(path):
        opened.append(SimInputDevice(path, name="Honeywell"))
        return opened[-1]

    monkeypatch.setattr("evdev.list_devices", lambda: ["/dev/input/event3"])
    monkeypatch.setattr("evdev.InputDevice", open_node)
    notes: list[str] = []
    found = discovery._input_nodes({"/dev/input/event3": ["/dev/kiosk-scanner"]}, notes)
    assert found == [discovery.Attached("input", "/dev/input/event3", "Honeywell", 0x0C2E,
                                        0x0B61, ("/dev/kiosk-scanner",), keys=True)]
    assert notes == [] and opened[0].history[-1] == "close"
