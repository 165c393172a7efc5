"""The alarm bit under faults: the real pad driver against both reader simulators over real ptys.

Whatever goes wrong on the line, the pad reports what the tag holds, or that it cannot know:
a write whose reply was lost, a read-back that failed, a tag that will not answer a security
read, replies that come late, a reader that is late again and again.
"""

from __future__ import annotations

import queue

import pytest

from drivers.events import DeviceStatus, TagsSeen
from drivers.registry import open_source
from drivers.sim.rfid_pad import LineFault, Op
from tests.driver_events import until, wait_for

READERS = ("3m810", "trf7970a")
BOOK, BOOK2 = "E004015000000001", "E004015000000002"
ITEMS = {BOOK: "33520000123453", BOOK2: "33520000456788"}


def secured_as(uid, secured):
    return lambda e: isinstance(e, TagsSeen) and \
        any(t.uid == uid and t.secured is secured and t.item_id for t in e.tags)


def start(source: str):
    events = queue.Queue()
    driver = open_source("rfid", source, events)
    driver.start()
    wait_for(events, lambda e: isinstance(e, DeviceStatus) and e.state == "connected")
    return driver, events


@pytest.fixture(params=READERS)
def pad(request):
    driver, events = start(f"sim:{request.param}?scenario=demo&paced=no&poll_ms=50")
    yield driver, events
    driver.close()
    assert not [h for h in driver.pad.history if h[0].startswith("lock")]  # never, whatever failed


def on_the_pad(driver, events, *uids):
    driver.pad.place(*uids)
    return wait_for(events, lambda e: isinstance(e, TagsSeen) and all(t.item_id for t in e.tags)
                    and {t.uid for t in e.tags} == set(uids))


def test_a_write_whose_reply_was_lost_is_answered_with_the_state_read_back(pad):
    driver, events = pad
    on_the_pad(driver, events, BOOK)
    driver.pad.plan(Op.WRITE_SECURITY, LineFault.LOST)
    result = driver.set_security(BOOK, False)
    assert (result.uid, result.secured, result.value) == (BOOK, False, 0xC2)
    assert "no complete reply" in result.error  # what went wrong on the way, though it took
    assert driver.pad.line_faults == [(Op.WRITE_SECURITY, LineFault.LOST)]
    wait_for(events, secured_as(BOOK, False))
    assert driver.pad.tags[BOOK].afi == 0xC2


def test_a_write_that_never_reached_the_tag_is_answered_with_the_old_state(pad):
    driver, events = pad
    on_the_pad(driver, events, BOOK)
    driver.pad.plan(Op.WRITE_SECURITY, LineFault.UNHEARD)
    result = driver.set_security(BOOK, False)
    assert (result.secured, result.value) == (True, 0x07) and result.error
    assert driver.pad.tags[BOOK].afi == 0x07


def test_a_failed_read_back_is_read_again(pad):
    driver, events = pad
    on_the_pad(driver, events, BOOK)
    driver.pad.plan(Op.READ_SECURITY, LineFault.CORRUPT)
    result = driver.set_security(BOOK, False)
    assert (result.secured, result.value) == (False, 0xC2)
    assert driver.pad.line_faults == [(Op.READ_SECURITY, LineFault.CORRUPT)]
    wait_for(events, secured_as(BOOK, False))


def test_a_tag_whose_security_cannot_be_read_is_unknown_until_it_answers_again(pad):
    driver, events = pad
    on_the_pad(driver, events, BOOK, BOOK2)
    driver.pad.faults.unreadable_security.add(BOOK)
    result = driver.set_security(BOOK, False)
    assert (result.uid, result.secured, result.value) == (BOOK, None, None)
    assert "did not answer" in result.error
    assert driver.pad.tags[BOOK].afi == 0xC2  # the write itself went through
    unknown = wait_for(events, secured_as(BOOK, None))
    assert {t.uid: t.item_id for t in unknown.tags} == ITEMS  # only the alarm state is unknown
    driver.pad.faults.unreadable_security.clear()
    wait_for(events, secured_as(BOOK, False))  # read again at a later poll


def test_a_tag_placed_while_its_security_cannot_be_read_is_reported_unknown_then_known(pad):
    driver, events = pad
    driver.pad.faults.unreadable_security.add(BOOK)
    driver.pad.place(BOOK)
    tag = wait_for(events, secured_as(BOOK, None)).tags[0]
    assert (tag.item_id, tag.error) == (ITEMS[BOOK], None)
    driver.pad.faults.unreadable_security.clear()
    wait_for(events, secured_as(BOOK, True))


def test_a_read_back_lost_twice_is_unknown_and_says_how_long_it_waited(pad):
    driver, events = pad
    on_the_pad(driver, events, BOOK)
    driver.pad.plan(Op.READ_SECURITY, LineFault.LOST, LineFault.LOST)
    result = driver.set_security(BOOK, False)
    assert (result.secured, result.value) == (None, None)
    assert "within 0.4 s" in result.error
    wait_for(events, secured_as(BOOK, None))
    wait_for(events, secured_as(BOOK, False))  # the next poll's read finds it out


def test_a_tag_lifted_before_its_security_is_set_is_unknown_not_a_silent_success(pad):
    driver, events = pad
    on_the_pad(driver, events, BOOK)
    driver.pad.remove(BOOK)
    result = driver.set_security(BOOK, False)
    assert (result.secured, result.value) == (None, None) and "did not answer" in result.error
    assert driver.pad.tags[BOOK].afi == 0x07


def test_a_late_reply_is_never_taken_for_another_tags_data(pad):
    driver, events = pad
    driver.pad.plan(Op.READ_BLOCKS, LineFault.LATE)
    driver.pad.place(BOOK, BOOK2)
    seen = until(events, lambda e: isinstance(e, TagsSeen) and
                 {t.uid: t.item_id for t in e.tags} == ITEMS)
    reported = {(t.uid, t.item_id) for e in seen if isinstance(e, TagsSeen) for t in e.tags}
    assert reported <= {(BOOK, ITEMS[BOOK]), (BOOK2, ITEMS[BOOK2]), (BOOK, None), (BOOK2, None)}
    assert driver.pad.line_faults == [(Op.READ_BLOCKS, LineFault.LATE)]


def test_a_late_security_reply_is_not_taken_for_the_read_back(pad):
    driver, events = pad
    on_the_pad(driver, events, BOOK)
    driver.pad.plan(Op.WRITE_SECURITY, LineFault.LATE)
    result = driver.set_security(BOOK, False)
    assert (result.secured, result.value) == (False, 0xC2)
    assert driver.set_security(BOOK, True).value == 0x07
    wait_for(events, secured_as(BOOK, True))


@pytest.mark.parametrize("reader", READERS)
def test_a_reader_steadily_late_shows_degraded_is_reopened_and_recovers(reader):
    driver, events = start(f"sim:{reader}?scenario=demo&paced=no&poll_ms=50")
    try:
        driver.pad.plan(Op.READ_BLOCKS, *[LineFault.LATE] * 6)
        driver.pad.place(BOOK)
        degraded = wait_for(events, lambda e: isinstance(e, DeviceStatus)
                            and e.state != "connected", timeout=15)
        assert degraded.state == "degraded"
        assert "late" in degraded.detail and "reopening" in degraded.detail
        after = until(events, lambda e: isinstance(e, DeviceStatus) and e.state == "connected",
                      timeout=20)
        states = [e.state for e in after if isinstance(e, DeviceStatus)]
        assert "lost" not in states and states[-1] == "connected"
        assert any("reopened" in e.detail for e in after if isinstance(e, DeviceStatus))
        assert driver.status == "connected" and not driver.pad.faults_pending()
        assert any(secured_as(BOOK, True)(e) for e in after)  # read whole once reopened
        assert driver.set_security(BOOK, False).secured is False
    finally:
        driver.close()


def test_eas_security_after_a_lost_write_reply_is_read_back():
    driver, events = start("sim:trf7970a?scenario=demo&paced=no&poll_ms=50&security=eas")
    try:
        on_the_pad(driver, events, BOOK)
        driver.pad.plan(Op.WRITE_SECURITY, LineFault.LOST)
        result = driver.set_security(BOOK, False)
        assert (result.secured, result.value) == (False, False)
        assert driver.pad.tags[BOOK].eas is False
        driver.pad.faults.unreadable_security.add(BOOK)
        result = driver.set_security(BOOK, True)
        assert (result.secured, result.value) == (None, None) and driver.pad.tags[BOOK].eas
    finally:
        driver.close()
