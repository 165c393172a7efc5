"""The runtime without a screen: driver events on one queue, effects applied in order."""

import logging
import time

import pytest

from drivers.events import BarcodeRead
from kiosk import config as config_module
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.pin import hash_pin
from kiosk.demo import hooks
from kiosk.journal import Journal
from kiosk.runtime import Runtime, SteerableClock
from tests.staff_pin import enter_pin


@pytest.fixture
def runtime(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[idle]\ntimeout_s = 30\ncountdown_s = 10\n'
                    f'[admin]\npin_hash = "{hash_pin("2580", iterations=100_000)}"\n'
                    '[devices]\nscanner = "sim:scanner"\nrfid = "3m810:/dev/ttyUSB0"\n')
    config = config_module.load(path)
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    runtime.start()
    yield runtime
    runtime.close()


def stored(runtime):
    with Journal.open_existing(runtime.config.journal_path) as reader:
        return [(row.kind, row.outcome) for row in reader.rows()]


def test_the_journal_row_is_on_disk_before_the_screen_changes(runtime):
    seen_on_change = []
    runtime.on_view.append(lambda view: seen_on_change.append((view.screen, stored(runtime))))
    runtime.send(ev.Start())
    runtime.send(ev.EndSession())
    screen, rows = seen_on_change[-1]
    assert screen is Screen.ATTRACT and rows == [("session", "ok")]


def test_driver_events_arrive_through_the_queue(runtime):
    deadline = time.monotonic() + 5
    while "rfid" not in runtime.view.devices and time.monotonic() < deadline:
        runtime.pump()  # the reader's own thread reports it, a moment after start
        time.sleep(0.02)
    devices = runtime.view.devices
    assert devices["scanner"].state == "connected"
    assert devices["rfid"].state == "lost"  # not plugged in: shown offline, never faked
    assert "No such file" in devices["rfid"].detail
    hooks.sim_scanner(runtime.drivers).scan("23520001234566")
    assert runtime.view.screen is Screen.ATTRACT  # nothing happens until the queue is pumped
    runtime.pump()
    assert runtime.view.screen is Screen.IDENTIFY  # a card: who is it? (no ILS set up here)
    assert "23520001234566" not in repr(runtime.view)


def test_idle_timeout_journals_and_forgets(runtime):
    runtime.send(ev.Start())
    runtime.send(ev.SetLanguage("en"))
    runtime.clock.advance(31)
    runtime.pump()
    assert runtime.view.countdown is not None
    runtime.clock.advance(11)
    runtime.pump()
    assert runtime.view.screen is Screen.ATTRACT and runtime.view.language == "zh_CN"
    assert stored(runtime) == [("session", "timeout")]


def test_admin_status_is_gathered_off_the_main_thread(runtime):
    runtime.send(ev.AdminGesture())
    enter_pin(runtime, "2580")
    assert runtime.view.screen is Screen.ADMIN and runtime.view.status is None
    names = [check.name for check in wait_for_status(runtime).checks]
    assert "journal" in names and "device:scanner" in names


def wait_for_status(runtime):
    deadline = time.monotonic() + 10
    while runtime.view.status is None:
        assert time.monotonic() < deadline, "no status report within 10 s"
        runtime.pump()
        time.sleep(0.01)
    return runtime.view.status


def test_a_journal_that_cannot_be_written_takes_the_kiosk_out_of_service(runtime, caplog):
    runtime.journal.close()  # every write now fails, as on a disk that stopped answering
    runtime.send(ev.Start())
    with caplog.at_level(logging.ERROR):
        runtime.send(ev.EndSession())
    assert runtime.keeper.held_rows == 1  # the row is held, to be written when it can
    assert "out of service: " in caplog.text
    assert runtime.view.screen is Screen.OUT_OF_SERVICE


def test_a_flood_of_events_does_not_starve_the_screen(runtime):
    deadline = time.monotonic() + 5
    while "rfid" not in runtime.view.devices and time.monotonic() < deadline:
        runtime.pump()  # the reader's own report first, so that only the flood is counted
        time.sleep(0.02)
    for n in range(1000):
        runtime.events.put(BarcodeRead("scanner", f"{n:014d}", None))
    runtime.pump()
    assert runtime.events.qsize() == 1000 - 200


def test_failed_journal_writes_show_on_the_admin_screen(runtime):
    runtime.journal.close()  # every write from here on fails
    runtime.send(ev.Start())
    runtime.send(ev.AdminGesture())  # ends the session: a failed write
    enter_pin(runtime, "2580")  # another
    report = wait_for_status(runtime)
    check = next(c for c in report.checks if c.name == "journal")
    assert check.ok is False
    assert check.summary.english.startswith("cannot be used: ")
    assert "closed database" in check.summary.english


def test_staff_settle_a_transaction_whose_result_was_not_known(runtime):
    with Journal.open(runtime.config.journal_path, runtime.config.patron_key_path) as other:
        seq = other.open_intent("checkout", item="33520000123453", patron="23520001234566")
    runtime.send(ev.IntentChecked(seq))  # not on the admin screen: nothing happens
    assert [r.seq for r in runtime.journal.open_intents()] == [seq]
    runtime.send(ev.AdminGesture())
    enter_pin(runtime, "2580")
    runtime.send(ev.IntentChecked(seq))
    assert runtime.journal.open_intents() == []
    assert stored(runtime)[-1] == ("checkout", "checked_by_staff")
    runtime.send(ev.IntentChecked(seq))  # pressed twice: no second row, no fault
    assert stored(runtime)[-1] == ("checkout", "checked_by_staff")
    assert runtime.view.screen is Screen.ADMIN
