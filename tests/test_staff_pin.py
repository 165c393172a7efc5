"""The staff PIN: bounded hashes, a lockout that outlives a restart, checks off the UI thread,
the doctor's warnings and `kiosk hash-pin`'s refusal of short PINs."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import config as config_module
from kiosk import pin_lockout, status
from kiosk.cli.main import main
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.pin import MAX_ITERATIONS, MIN_ITERATIONS, hash_pin, verify_pin
from kiosk.core.session import Session
from kiosk.core.session_view import Settings
from kiosk.errors import ConfigError
from kiosk.journal import Journal
from kiosk.pin_lockout import PinLockout
from kiosk.runtime import Runtime, SteerableClock
from tests.property_budget import PARSER_BUDGET
from tests.staff_pin import enter_pin, staff_hash, submit_pin

PIN = "482916"
HASH = staff_hash(PIN)
SALT = "00" * 16
DIGEST = "ab" * 32


# --- hashes: bounded iterations ------------------------------------------------------------

def config_with(tmp_path, admin: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[admin]\n{admin}\n', encoding="utf-8")
    return config_module.load(path)


@pytest.mark.parametrize("iterations, words", [
    (1000, "at least 100000"), (MIN_ITERATIONS - 1, "at least 100000"),
    (MAX_ITERATIONS + 1, "at most 10000000"), (9_999_999_999, "at most 10000000")])
def test_the_config_refuses_a_pin_hash_with_too_few_or_absurd_iterations(tmp_path, iterations,
                                                                         words):
    line = f'pin_hash = "pbkdf2_sha256${iterations}${SALT}${DIGEST}"'
    with pytest.raises(ConfigError) as refused:
        config_with(tmp_path, line)
    message = str(refused.value)
    assert "option 'pin_hash' in section [admin]" in message and words in message
    assert "kiosk hash-pin" in message and str(tmp_path / "kiosk.toml") in message


def test_the_config_takes_a_hash_made_with_the_fewest_iterations_allowed(tmp_path):
    assert config_with(tmp_path, f'pin_hash = "{HASH}"').admin.pin_hash == HASH


def test_verify_pin_never_runs_an_absurd_iteration_count():
    for iterations in (MAX_ITERATIONS + 1, 10**9, "9" * 5000):
        started = time.monotonic()
        assert not verify_pin("1234", f"pbkdf2_sha256${iterations}${SALT}${DIGEST}")
        assert time.monotonic() - started < 0.5


@PARSER_BUDGET
@given(st.text(max_size=300))
def test_verify_pin_answers_false_for_any_text(stored):
    assert verify_pin("1234", stored) is False or stored.startswith("pbkdf2_sha256$")


# --- the lockout kept in the data folder ----------------------------------------------------

def test_the_lockout_file_round_trips_and_counts_down_in_wall_clock_time(tmp_path):
    path = tmp_path / "pin-lockout.json"
    assert pin_lockout.load(path, 300) == PinLockout()  # first start: nothing kept
    pin_lockout.save(path, PinLockout(0, 300), now=1000.0)
    assert pin_lockout.load(path, 300, now=1100.0) == PinLockout(0, 200)
    assert pin_lockout.load(path, 300, now=2000.0) == PinLockout(0, 0)
    assert pin_lockout.load(path, 60, now=1000.0) == PinLockout(0, 60)  # never past lockout_s
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["pin-lockout.json"]  # no temporary left
    pin_lockout.save(path, PinLockout(3, 0), now=1000.0)
    assert pin_lockout.load(path, 300, now=5000.0) == PinLockout(3, 0)


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe", b"[]", b'{"failures": "x"}',
                                     b'{"failures": 1, "locked_until": NaN, "written_at": 1}',
                                     b'{"failures": -1, "locked_until": 1, "written_at": 1}'])
def test_a_damaged_lockout_file_means_locked_never_unlocked(tmp_path, content, caplog):
    path = tmp_path / "pin-lockout.json"
    path.write_bytes(content)
    assert pin_lockout.load(path, 300, now=1000.0) == PinLockout(0, 300)
    assert "stays locked for 300 s" in caplog.text


def test_an_unreadable_lockout_file_means_locked(tmp_path):
    path = tmp_path / "pin-lockout.json"
    path.mkdir()  # reading it fails with an OSError, whoever runs the test
    assert pin_lockout.load(path, 120, now=1000.0) == PinLockout(0, 120)


def test_a_clock_set_back_does_not_end_a_lockout(tmp_path):
    path = tmp_path / "pin-lockout.json"
    pin_lockout.save(path, PinLockout(0, 300), now=1_800_000_000.0)
    # A Pi without a battery clock boots in the past until NTP answers.
    assert pin_lockout.load(path, 300, now=1_000_000_000.0) == PinLockout(0, 300)


# --- the core asks for the check; it never runs PBKDF2 itself -------------------------------

def session(**overrides) -> Session:
    s = Session(Settings(pin_hash=HASH, max_pin_attempts=3, lockout_s=300, **overrides), 0.0)
    s.handle(ev.AdminGesture(), 0.0)
    return s


def test_the_core_asks_for_a_pin_check_instead_of_hashing_on_its_thread(monkeypatch):
    import kiosk.core.pin
    monkeypatch.setattr(kiosk.core.pin, "verify_pin", lambda *a: pytest.fail("hashed in core"))
    s = session()
    effects = s.handle(ev.PinSubmitted(PIN), 1.0)
    assert effects == [ev.SavePinLockout(1, 0.0), ev.CheckPin(1, PIN, HASH)]
    assert PIN not in repr(effects)  # never in a log line
    assert s.view.screen is Screen.ADMIN_PIN and s.view.pin_message == "checking"
    assert s.handle(ev.PinSubmitted("000000"), 1.1) == []  # one guess at a time
    effects = s.handle(ev.PinChecked(1, True), 1.5)
    assert s.view.screen is Screen.ADMIN
    assert effects == [ev.SavePinLockout(0, 0.0), ev.JournalAppend("admin", "ok"),
                       ev.GatherStatus()]


def test_wrong_pins_lock_the_keypad_with_a_countdown_then_free_it():
    s = session(idle_timeout_s=3600)  # staff waiting at the PIN screen all along
    submit_pin(s, "111111", 1.0)
    assert s.view.pin_message == "wrong"
    submit_pin(s, "222222", 2.0)
    effects = submit_pin(s, "333333", 3.0)
    assert (ev.SavePinLockout(0, 300) in effects
            and ev.JournalAppend("admin", "pin_locked") in effects)
    assert (s.view.pin_message, s.view.pin_wait_s) == ("locked", 300)
    assert s.handle(ev.PinSubmitted(PIN), 4.0) == []  # the right PIN, but locked
    s.handle(ev.Tick(), 62.5)
    assert (s.view.pin_message, s.view.pin_wait_s) == ("locked", 241)
    s.handle(ev.Tick(), 303.0)
    assert (s.view.pin_message, s.view.pin_wait_s) == (None, None)
    submit_pin(s, PIN, 304.0)
    assert s.view.screen is Screen.ADMIN


def test_a_guess_counts_even_when_the_pin_screen_was_cancelled_meanwhile():
    s = session()
    s.handle(ev.PinSubmitted("111111"), 1.0)
    s.handle(ev.EndSession(), 1.1)
    effects = s.handle(ev.PinChecked(1, False), 1.2)
    assert ev.JournalAppend("admin", "pin_wrong") in effects and s.staff._failed_pins == 1


def test_a_lockout_loaded_at_start_holds_and_so_do_guesses_a_restart_cut_off():
    s = Session(Settings(pin_hash=HASH, max_pin_attempts=3, lockout_s=300), 0.0)
    s.handle(ev.PinLockoutLoaded(0, 120.0), 0.0)
    s.handle(ev.AdminGesture(), 1.0)
    assert (s.view.pin_message, s.view.pin_wait_s) == ("locked", 119)
    cut_off = Session(Settings(pin_hash=HASH, max_pin_attempts=3, lockout_s=300), 0.0)
    assert cut_off.handle(ev.PinLockoutLoaded(3, 0.0), 0.0) == [ev.SavePinLockout(0, 300)]


# --- the runtime: checks on the PIN thread, the lockout across a restart --------------------

def make_runtime(tmp_path, **admin) -> Runtime:
    extra = "".join(f"{key} = {value}\n" for key, value in admin.items())
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[admin]\npin_hash = "{HASH}"\n{extra}',
                    encoding="utf-8")
    config = config_module.load(path)
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path),
                      clock=SteerableClock())
    runtime.start()
    return runtime


def test_the_runtime_checks_the_pin_off_the_main_thread(tmp_path, monkeypatch):
    import kiosk.runtime
    threads = []

    def slow_verify(pin, stored):
        threads.append(threading.current_thread())
        time.sleep(0.3)  # a Pi's PBKDF2: the screen must not wait for it
        return verify_pin(pin, stored)
    monkeypatch.setattr(kiosk.runtime, "verify_pin", slow_verify)
    runtime = make_runtime(tmp_path)
    try:
        runtime.send(ev.AdminGesture())
        started = time.monotonic()
        runtime.send(ev.PinSubmitted(PIN))
        assert time.monotonic() - started < 0.2
        assert runtime.view.pin_message == "checking"
        while runtime.view.screen is not Screen.ADMIN:
            assert time.monotonic() - started < 5
            runtime.pump()
            time.sleep(0.01)
    finally:
        runtime.close()
    assert threads and threads[0] is not threading.main_thread()
    assert threads[0].name.startswith("pin")


def test_a_restart_keeps_the_lockout(tmp_path):
    runtime = make_runtime(tmp_path, max_attempts=2, lockout_s=600)
    runtime.send(ev.AdminGesture())
    enter_pin(runtime, "111111")
    enter_pin(runtime, "222222")
    assert runtime.view.pin_message == "locked"
    runtime.close()
    kept = json.loads((tmp_path / "pin-lockout.json").read_text())
    assert kept["locked_until"] - kept["written_at"] == 600
    again = make_runtime(tmp_path, max_attempts=2, lockout_s=600)
    try:
        again.send(ev.AdminGesture())
        assert again.view.pin_message == "locked" and 590 <= again.view.pin_wait_s <= 600
        again.send(ev.PinSubmitted(PIN))
        assert again.view.screen is Screen.ADMIN_PIN and again.view.pin_message == "locked"
    finally:
        again.close()


# --- the doctor and the admin screen's config check -----------------------------------------

def test_the_doctor_warns_of_a_pin_hash_on_the_boot_partition(tmp_path, monkeypatch):
    base, boot = tmp_path / "kiosk.toml", tmp_path / "boot" / "kiosk.toml"
    boot.parent.mkdir()
    base.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    boot.write_text(f'[admin]\npin_hash = "{HASH}"\n', encoding="utf-8")
    monkeypatch.setattr(config_module, "BOOT_OVERRIDES", (boot,))
    check = status.check_config(config_module.load_files([base, boot]))
    assert check.ok and check.warning
    assert "boot partition" in check.advice.english and str(boot) in check.advice.english
    base.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[admin]\npin_hash = "{HASH}"\n',
                    encoding="utf-8")
    boot.write_text("[idle]\ntimeout_s = 90\n", encoding="utf-8")
    assert not status.check_config(config_module.load_files([base, boot])).warning


def test_the_doctor_warns_of_the_demo_pin(tmp_path):
    check = status.check_config(config_with(tmp_path, f'pin_hash = "{hash_pin("1234")}"'))
    assert check.warning and "demo" in check.advice.english


# --- kiosk hash-pin -------------------------------------------------------------------------

@pytest.mark.parametrize("typed, extra, code", [("1234", [], 1), ("12345", [], 1),
                                                ("1234", ["--short"], 0), ("123456", [], 0)])
def test_hash_pin_refuses_short_pins_unless_told(monkeypatch, capsys, typed, extra, code):
    monkeypatch.setattr("sys.stdin", io.StringIO(typed + "\n"))
    assert main(["hash-pin", "--stdin", *extra]) == code
    out, err = capsys.readouterr()
    if code:
        assert out == "" and "at least 6 digits" in err and "--short" in err
    else:
        assert verify_pin(typed, out.split('"')[1])
        assert ("quick to guess" in err) == (len(typed) < 6)
    assert typed not in err  # the PIN is never echoed
