"""Waiting for driver events in tests: on the queue, with a deadline, never a bare sleep."""

from __future__ import annotations

import queue
import time

import pytest

from drivers.events import DeviceStatus


def until(events: queue.Queue, wanted, timeout: float = 3.0) -> list:
    """Events up to and including the first for which `wanted(event)`; fails at the deadline."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = events.get(timeout=0.02)
        except queue.Empty:
            continue
        seen.append(event)
        if wanted(event):
            return seen
    pytest.fail(f"nothing wanted within {timeout} s; saw {seen}")


def wait_for(events: queue.Queue, wanted, timeout: float = 5.0):
    """The first event for which `wanted(event)`."""
    return until(events, wanted, timeout)[-1]


def state(name: str):
    return lambda event: isinstance(event, DeviceStatus) and event.state == name


def kind(cls):
    return lambda event: isinstance(event, cls)
