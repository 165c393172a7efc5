"""The real RFID pad driver against both reader simulators over real ptys, through `sim:`
sources."""

from __future__ import annotations

import queue
import time

import pytest

from drivers.errors import DeviceError
from drivers.events import DeviceFault, DeviceStatus, TagsSeen
from drivers.registry import open_source
from drivers.settings import DriverSettings
from drivers.sim.rfid_pad import LineFault, Op
from tests.driver_events import until, wait_for

READERS = ("3m810", "trf7970a")
BOOK, BOOK2, BOOK3 = "E004015000000001", "E004015000000002", "E004015000000003"
SET_PART1, SET_PART2, DAMAGED = "E004015000000004", "E004015000000005", "E004015000000007"


def tags_with(uids):
    return lambda e: isinstance(e, TagsSeen) and {t.uid for t in e.tags} == set(uids)


@pytest.fixture(params=READERS)
def pad(request):
    events = queue.Queue()
    driver = open_source("rfid", f"sim:{request.param}?scenario=demo&paced=no&poll_ms=50",
                         events, DriverSettings())
    driver.start()
    wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "connected")
    yield driver, events
    driver.close()


def test_books_placed_on_the_pad_are_reported_decoded(pad):
    driver, events = pad
    driver.pad.place(BOOK, BOOK2)
    seen = wait_for(events, tags_with([BOOK, BOOK2]))
    first = seen.tags[0]
    assert (first.uid, first.item_id, first.isil, first.model) == \
        (BOOK, "33520000123453", "CN-430281", "iso28560-3")
    assert (first.usage, first.secured, first.error) == ("circulating", True, None)
    driver.pad.remove(BOOK)
    assert wait_for(events, tags_with([BOOK2])).tags[0].item_id == "33520000456788"


def test_a_set_is_incomplete_until_every_part_is_on_the_pad(pad):
    driver, events = pad
    driver.pad.place(SET_PART1)
    seen = wait_for(events, tags_with([SET_PART1]))
    assert [(s.item_id, s.parts, s.present, s.complete) for s in seen.sets] == \
        [("33520000246801", 2, (1,), False)]
    driver.pad.place(SET_PART2)
    assert wait_for(events, tags_with([SET_PART1, SET_PART2])).sets[0].complete


def test_a_damaged_tag_is_reported_with_its_error_and_no_guess(pad):
    driver, events = pad
    driver.pad.place(DAMAGED)
    tag = wait_for(events, tags_with([DAMAGED])).tags[0]
    assert tag.item_id is None and "CRC" in tag.error


def test_security_is_cleared_and_set_on_one_tag_and_read_back(pad):
    driver, events = pad
    driver.pad.place(BOOK, BOOK2)
    wait_for(events, tags_with([BOOK, BOOK2]))
    result = driver.set_security(BOOK, False)
    assert (result.uid, result.secured, result.value) == (BOOK, False, 0xC2)
    changed = wait_for(events, lambda e: isinstance(e, TagsSeen) and
                       {t.uid: t.secured for t in e.tags} == {BOOK: False, BOOK2: True})
    assert changed.tags[0].secured is False
    assert driver.set_security(BOOK, True).value == 0x07
    writes = [h for h in driver.pad.history if h[0].startswith(("write", "lock"))]
    assert writes == [("write_afi", BOOK, 0xC2), ("write_afi", BOOK, 0x07)]


def test_bad_replies_are_counted_and_reading_goes_on(pad):
    driver, events = pad
    driver.pad.faults.corrupt_replies = 2
    fault = wait_for(events, lambda e: isinstance(e, DeviceFault))
    assert fault.count >= 1
    driver.pad.place(BOOK3)
    assert wait_for(events, tags_with([BOOK3])).tags[0].item_id == "33520000789014"
    assert driver.status == "connected"


def test_an_unplugged_reader_is_lost_then_found_again_with_its_tags(pad):
    driver, events = pad
    driver.pad.place(BOOK)
    wait_for(events, tags_with([BOOK]))
    driver.twin.unplug()
    lost = wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "lost")
    assert lost.source == "rfid"
    with pytest.raises(DeviceError, match="not connected"):
        driver.set_security(BOOK, False)
    driver.twin.replug()
    wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "connected", timeout=8)
    assert wait_for(events, tags_with([BOOK])).tags[0].item_id == "33520000123453"


def test_a_silent_reader_is_reopened_after_three_failed_polls():
    events = queue.Queue()
    driver = open_source("rfid", "sim:3m810?scenario=demo&paced=no&poll_ms=50", events)
    driver.start()
    try:
        wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "connected")
        driver.pad.faults.silent_replies = 3
        lost = wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "lost")
        assert "3 polls" in lost.detail
        wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "connected",
                 timeout=8)
    finally:
        driver.close()


def test_eas_security_on_the_trf7970a_sets_only_the_eas_bit():
    events = queue.Queue()
    driver = open_source("rfid", "sim:trf7970a?scenario=demo&paced=no&poll_ms=50&security=eas",
                         events)
    driver.start()
    try:
        wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "connected")
        driver.pad.place(BOOK)
        assert wait_for(events, tags_with([BOOK])).tags[0].secured is True
        result = driver.set_security(BOOK, False)
        assert (result.secured, result.value) == (False, False)
        assert driver.pad.tags[BOOK].eas is False and driver.pad.tags[BOOK].afi == 0x07
        assert not [h for h in driver.pad.history if h[0].startswith("lock")]
    finally:
        driver.close()


def test_noise_between_frames_is_a_counted_fault_and_the_next_reply_still_counts(pad):
    driver, events = pad
    driver.pad.faults.garbage = b"\x00\x13\x37noise"
    fault = wait_for(events, lambda e: isinstance(e, DeviceFault))
    assert fault.count >= 1
    driver.pad.place(BOOK)
    assert wait_for(events, tags_with([BOOK])).tags[0].item_id == "33520000123453"


def test_a_uid_garbled_on_the_line_is_never_reported_and_the_real_tag_is_at_once(pad):
    """The TRF7970A's replies carry no checksum: one changed digit in an inventory names a tag
    that does not exist (E004015000000011 here). The 810's checksum catches the same fault."""
    driver, events = pad
    driver.pad.plan(Op.INVENTORY, LineFault.GARBLED)
    driver.pad.place(BOOK)
    first = wait_for(events, lambda e: isinstance(e, TagsSeen) and e.tags)
    assert [(t.uid, t.error) for t in first.tags] == [(BOOK, None)]
    assert driver.pad.line_faults == [(Op.INVENTORY, LineFault.GARBLED)]


def test_a_tag_that_stays_on_the_pad_is_reported_even_if_it_never_answers_system_info(pad):
    driver, events = pad
    driver.pad.faults.unreadable_security.add(BOOK)  # silent to Get System Information
    driver.pad.place(BOOK)
    tag = wait_for(events, tags_with([BOOK])).tags[0]  # by its second inventory
    assert (tag.item_id, tag.secured) == ("33520000123453", None)
    driver.pad.remove(BOOK)
    wait_for(events, tags_with([]))


def test_a_garbled_inventory_neither_removes_a_tag_on_the_pad_nor_adds_one(pad):
    driver, events = pad
    driver.pad.place(BOOK)
    wait_for(events, tags_with([BOOK]))
    driver.pad.plan(Op.INVENTORY, LineFault.GARBLED)
    deadline = time.monotonic() + 3
    while not driver.pad.line_faults and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # a few more polls at 50 ms
    driver.pad.remove(BOOK)
    seen = until(events, tags_with([]))
    assert [{t.uid for t in e.tags} for e in seen if isinstance(e, TagsSeen)] == [set()]
