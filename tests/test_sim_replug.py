"""A simulated serial device plugged in again is a device powered up again: nothing it had
read before the cable was pulled is still waiting to be joined to the next request. (The UI
tests replug the demo's 3M 810 twin: noise read just before the unplug, a start byte claiming
more bytes than ever came, held back every request after it, and the reader never answered
again.)"""

from __future__ import annotations

import time

import pytest
import serial

from drivers.rfid.m810_frames import START, probe_request
from drivers.rfid.trf7970a_frames import ping_request
from drivers.sim.m810 import start_m810_sim
from drivers.sim.rfid_pad import SimPad
from drivers.sim.trf7970a import start_trf7970a_sim


def answer(port: serial.Serial, request: bytes, wait_s: float = 1.0) -> bytes:
    port.write(request)
    end, got = time.monotonic() + wait_s, b""
    while time.monotonic() < end and not got:
        got = port.read(256)
    return got


# Noise that opens a frame whose length it claims (4,000 bytes; 255 hex digit pairs).
NOISE_3M = bytes([START, 0x0F, 0xA0, 0x31])
NOISE_TRF = b"01FF"


@pytest.mark.parametrize("start, asking, noise", [
    (start_m810_sim, probe_request(), NOISE_3M),
    (start_trf7970a_sim, ping_request(), NOISE_TRF),
])
def test_what_was_read_before_the_unplug_is_gone_after_the_replug(tmp_path, start, asking,
                                                                   noise):
    twin = start(SimPad(), tmp_path / "reader", paced=False)
    try:
        with serial.Serial(str(tmp_path / "reader"), timeout=0.05) as port:
            assert answer(port, asking)  # it answers a whole request
            port.write(noise)
            time.sleep(0.2)  # read by the twin: a frame waiting for the rest
        twin.unplug()
        twin.replug()
        with serial.Serial(str(tmp_path / "reader"), timeout=0.05) as port:
            assert answer(port, asking), "the replugged reader did not answer"
    finally:
        twin.close()
