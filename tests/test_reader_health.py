"""A reader's health: the verdicts on its replies, and the "degraded" state the supervisor shows
while a badly answering device is reopened and watched."""

from __future__ import annotations

import queue
import time

from drivers.errors import DeviceDegraded
from drivers.events import DeviceStatus
from drivers.rfid.health import Bad, ReplyHealth
from drivers.supervisor import SupervisedDriver
from tests.driver_events import until


def test_a_reader_is_degraded_by_enough_bad_replies_among_its_last_ones():
    health = ReplyHealth(window=5, degraded_at=3)
    for _ in range(5):
        health.good()
    health.bad(Bad.LATE, "no reply to 0A")
    health.bad(Bad.BROKEN, "checksum")
    assert not health.degraded and not health.clean
    health.bad(Bad.LATE, "no reply to 02")
    assert health.degraded
    assert health.summary() == \
        "3 of its last 5 replies were bad (2 late, 1 broken); last: no reply to 02"
    for _ in range(3):
        health.good()
    assert not health.degraded and not health.clean  # the window moved on: two bad ones left
    for _ in range(2):
        health.good()
    assert health.clean


def test_a_fresh_window_is_not_clean_until_full():
    health = ReplyHealth(window=3)
    health.good()
    assert not health.clean and not health.degraded


class Wobbly(SupervisedDriver):
    """Serves badly in its first session, then well, then says it has recovered."""

    def __init__(self, events):
        super().__init__("rfid", events, retry_delays=(0.01,))
        self.opened = 0

    def connect(self):
        self.opened += 1
        return self.opened

    def describe(self, handle):
        return f"session {handle}"

    def serve(self, handle):
        if handle == 1:
            raise DeviceDegraded("5 of its last 20 replies were bad (5 late)")
        self.recovered()
        while not self.stopping:
            time.sleep(0.01)


def test_a_degraded_device_shows_degraded_while_reopened_until_it_has_recovered():
    events = queue.Queue()
    driver = Wobbly(events)
    driver.start()
    try:
        got = until(events, lambda e: e.state == "connected" and e.detail == "session 2")
    finally:
        driver.close()
    assert got == [
        DeviceStatus("rfid", "connected", "session 1"),
        DeviceStatus("rfid", "degraded", "5 of its last 20 replies were bad (5 late); reopening"),
        DeviceStatus("rfid", "degraded", "reopened after: 5 of its last 20 replies were bad "
                                         "(5 late); watching its replies"),
        DeviceStatus("rfid", "connected", "session 2"),
    ]
    assert driver.faults == 0  # a degraded device is a state, not a driver error
