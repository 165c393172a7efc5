"""Masking, the demo's key buffer, machine facts, the CJK font lookup, the simulated scanner."""

import queue
import re
from pathlib import Path

import pytest

from common import fonts
from common.masking import mask, mask_numbers_in
from drivers.events import BarcodeRead, DeviceStatus
from drivers.registry import UnavailableDriver, open_source
from drivers.sim.scanner import SimScanner
from kiosk import system
from kiosk.errors import FontMissingError
from kiosk.ui.keys import MAX_LENGTH, KeyBuffer


def test_mask_keeps_only_the_last_four():
    assert mask("23520001234566") == "**********4566"
    assert mask("123") == "***"
    assert mask_numbers_in("card 23520001234566 item 12345") == "card **********4566 item 12345"


def test_key_buffer_turns_typing_and_enter_into_one_code():
    keys = KeyBuffer()
    for char in "3352":
        assert keys.feed(char) is None
    assert keys.feed(None, enter=True) == "3352"
    assert keys.feed(None, enter=True) is None  # Enter alone scans nothing
    keys.feed("\x08")  # control characters are not part of a code
    for _ in range(MAX_LENGTH + 10):
        keys.feed("9")
    assert keys.feed(None, enter=True) == "9" * MAX_LENGTH


def test_boot_id_and_clock_and_disk():
    assert re.fullmatch(r"[0-9a-f-]{36}", system.boot_id())
    assert system.clock_synchronised() in (True, False, None)
    free, total = system.disk_free("/nonexistent/deeper/still")  # nearest existing parent
    assert 0 < free <= total


def test_the_kernel_clock_is_asked_without_starting_a_process(monkeypatch):
    """The journal asks on every row (an answer kept 30 s): ctypes' find_library runs
    `ldconfig -p` (milliseconds, more on a Pi), so the C library is the one Python has."""
    import ctypes.util

    def no_process(name):
        raise AssertionError(f"find_library({name!r}) starts ldconfig")

    monkeypatch.setattr(ctypes.util, "find_library", no_process)
    for _ in range(2):
        assert system.clock_synchronised(max_age_s=0) in (True, False)


def test_an_unknown_clock_is_kept_as_long_as_a_known_one(monkeypatch):
    asked = []
    monkeypatch.setattr(system, "_ask_kernel_clock", lambda: asked.append(1))
    monkeypatch.setattr(system, "_clock_cache", None)
    assert [system.clock_synchronised() for _ in range(3)] == [None] * 3
    assert len(asked) == 1


def test_boot_id_unknown_without_proc(monkeypatch, tmp_path):
    monkeypatch.setattr(system, "BOOT_ID_PATH", tmp_path / "missing")
    assert system.boot_id() == "unknown"


def test_cjk_font_found_here():
    assert fonts.find_cjk_font().is_file()


def test_no_cjk_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(fonts, "KNOWN_PATHS", (Path("/nonexistent.ttc"),))
    monkeypatch.setattr(fonts.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(OSError()))
    with pytest.raises(FontMissingError, match="fonts-noto-cjk"):
        fonts.find_cjk_font()


def test_sim_scanner_reports_state_and_scans_on_its_queue():
    events = queue.Queue()
    with open_source("scanner", "sim:scanner", events) as scanner:
        assert isinstance(scanner, SimScanner)
        scanner.scan("33520000123453")
    scanner.close()  # idempotent
    got = [events.get_nowait() for _ in range(events.qsize())]
    assert got == [DeviceStatus("scanner", "connected", "simulated"),
                   BarcodeRead("scanner", "33520000123453", None, "item"),
                   DeviceStatus("scanner", "lost", "closed")]


def test_a_device_that_cannot_be_built_shows_unavailable_with_the_reason(tmp_path):
    from kiosk.config import Config
    from kiosk.runtime import _build_driver
    events = queue.Queue()
    missing = tmp_path / "pad.toml"
    driver = _build_driver("rfid", f"sim:3m810?scenario={missing}", events, Config())
    assert isinstance(driver, UnavailableDriver)
    driver.start()
    status = events.get_nowait()
    assert status.state == "unavailable" and "cannot read the RFID scenario" in status.detail


@pytest.mark.parametrize("model, pi", [(b"Raspberry Pi 4 Model B Rev 1.5\0", True),
                                       (b"Pine64 RockPro64\0", False), (None, False)])
def test_auto_display_goes_fullscreen_without_pointer_only_on_a_pi(tmp_path, monkeypatch,
                                                                   model, pi):
    from kiosk.config import DisplaySection
    from kiosk.ui import boot
    path = tmp_path / "model"
    if model is not None:
        path.write_bytes(model)
    monkeypatch.setattr(system, "MODEL_PATH", path)
    assert system.is_raspberry_pi() is pi
    auto = DisplaySection()
    assert (boot.fullscreen(auto), boot.show_cursor(auto)) == (pi, not pi)
    forced = DisplaySection(fullscreen="yes", show_cursor="no")
    assert (boot.fullscreen(forced), boot.show_cursor(forced)) == (True, False)
