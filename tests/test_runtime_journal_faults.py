"""The journal fails under a running kiosk: a full or read-only data partition, the file deleted,
replaced or cut short. Real file systems (loop-mounted ext4), the real test ILS, the runtime
without a screen. Whatever happens, nothing is shown as done that the journal lacks, the ILS
holds nothing the journal does not know of, and the kiosk says it is out of service."""

import dataclasses
import logging
import os
import shutil

import pytest

from drivers.events import BarcodeRead
from kiosk import config as config_module
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.pin import hash_pin
from kiosk.journal import Journal
from kiosk.journal_keeper import CHECK_EVERY_S, PROBE_EVERY_S
from kiosk.runtime import Runtime, SteerableClock
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.runtime_kiosk import identified, ils_section, pump_until
from tests.small_partition import fill, remount, small_partition, why_not
from tests.staff_pin import enter_pin

CARD, PIN = "23520001234566", "1234"
STAFF_PIN = "2580"
STAFF_PIN_HASH = hash_pin(STAFF_PIN, iterations=100_000)
BOOKS = ("33520000123453", "33520000456788", "33520000789014")


@pytest.fixture
def ils():
    data = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
    data.rules = dataclasses.replace(data.rules, max_loans=1000)
    for barcode in BOOKS:
        data.items[barcode].on_hold_for = ""
    with Sip2TestServer(data) as server:
        yield server


@pytest.fixture
def disk(tmp_path):
    """A 4 MB data partition of its own (tests/small_partition.py)."""
    reason = why_not()
    if reason:
        pytest.skip(reason)
    with small_partition(tmp_path) as mount_point:
        yield mount_point


def kiosk_on(data_dir, ils, tmp_path, **journal):
    path = tmp_path / "kiosk.toml"
    options = "".join(f"{key} = {value}\n" for key, value in journal.items())
    path.write_text(f'[kiosk]\ndata_dir = "{data_dir}"\n[journal]\nreserve_mb = 1\n{options}'
                    f'[admin]\npin_hash = "{STAFF_PIN_HASH}"\n'
                    f'{ils_section(ils)}[devices]\nscanner = "sim:scanner"\n', encoding="utf-8")
    runtime = Runtime(config_module.load(path), clock=SteerableClock())
    runtime.start()
    pump_until(runtime, lambda: runtime.ils is None or runtime.ils.online)
    return runtime


def borrowing(runtime):
    """The patron identified on the borrow screen (the test ILS wants the PIN)."""
    runtime.send(ev.Start())
    runtime.send(ev.Navigate(Screen.BORROW))
    runtime.send(BarcodeRead("scanner", CARD, None, "patron"))
    identified(runtime, CARD, {CARD: PIN})


def scan(runtime, item):
    runtime.send(BarcodeRead("scanner", item, None, "item"))
    pump_until(runtime, lambda: runtime.view.screen is Screen.OUT_OF_SERVICE or not any(
        line.status == "busy" for line in runtime.view.circulation.lines))


def rows_of(journal_path):
    with Journal.open_existing(journal_path) as journal:
        return list(journal.rows())


def out_of_service_lines(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.ERROR and r.getMessage().startswith("out of service:")]


def test_a_full_partition_stops_the_kiosk_before_the_ils_is_asked(disk, ils, tmp_path, caplog):
    runtime = kiosk_on(disk / "data", ils, tmp_path)
    try:
        borrowing(runtime)
        scan(runtime, BOOKS[0])
        assert runtime.view.circulation.lines[0].status == "ok"
        checkpoint(runtime.config.journal_path)  # the WAL holds no spare room now
        filler = fill(disk, leave_kb=0)
        scan(runtime, BOOKS[1])
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
        assert runtime.view.out_of_service.cause == "full"
        assert runtime.view.circulation.lines == ()  # nothing left on screen to look done
        assert BOOKS[1] not in ils.data.loans  # its intent could not be written: never sent
        (line,) = out_of_service_lines(caplog)
        assert "data partition is full" in line
        runtime.send(ev.Start())
        assert runtime.view.screen is Screen.OUT_OF_SERVICE  # no new patron

        runtime.clock.advance(PROBE_EVERY_S)
        runtime.pump()
        assert runtime.view.screen is Screen.OUT_OF_SERVICE  # still full
        filler.unlink()
        runtime.clock.advance(PROBE_EVERY_S)
        runtime.pump()
        assert runtime.view.screen is Screen.ATTRACT and runtime.view.out_of_service is None
    finally:
        runtime.close()
    rows = rows_of(runtime.config.journal_path)
    services = [(r.outcome, r.detail) for r in rows if r.kind == "service"]
    assert services[0] == ("out_of_service", {"cause": "full"})  # written on the reserve
    assert services[-1][0] == "restored" and services[-1][1]["seconds"] >= 2 * PROBE_EVERY_S
    assert [(r.kind, r.outcome, r.item) for r in rows if r.item == BOOKS[1]] == []


def test_many_patrons_on_a_filling_partition_are_never_told_an_unrecorded_result(
        disk, ils, tmp_path):
    """The reviewer's case: 1,888 transactions shown, 196 written. Now each shown is written,
    and the ILS lent exactly what the journal says."""
    runtime = kiosk_on(disk / "data", ils, tmp_path)
    shown = []
    try:
        filler = fill(disk, leave_kb=256)
        for n in range(300):
            flow = Screen.BORROW if n % 2 == 0 else Screen.RETURN
            if flow is Screen.BORROW:
                borrowing(runtime)
            else:
                runtime.send(ev.Start())
                runtime.send(ev.Navigate(Screen.RETURN))
            scan(runtime, BOOKS[1])
            if runtime.view.screen is Screen.OUT_OF_SERVICE:
                break
            shown += [(flow, line.status) for line in runtime.view.circulation.lines]
            runtime.send(ev.FinishFlow())
            runtime.send(ev.EndSession())
            if runtime.view.screen is Screen.OUT_OF_SERVICE:
                break
        else:
            runtime.clock.advance(CHECK_EVERY_S)  # the steady check sees the partition full
            runtime.pump()
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
    finally:
        runtime.close()
    filler.unlink()
    rows = rows_of(runtime.config.journal_path)
    done = [(r.kind, r.outcome) for r in rows if r.item == BOOKS[1] and r.kind != "intent"]
    assert len([s for s in shown if s[1] == "ok"]) == len([d for d in done if d[1] == "ok"])
    on_loan = BOOKS[1] in ils.data.loans
    last = [kind for kind, outcome in done if outcome == "ok"][-1:]
    assert on_loan == (last == ["checkout"])
    assert not Journal.open_existing(runtime.config.journal_path).verify()


def checkpoint(journal_path):
    import sqlite3
    db = sqlite3.connect(journal_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def test_a_kiosk_started_on_a_full_partition_opens_on_its_reserve_to_record_it(
        disk, ils, tmp_path):
    data = disk / "data"
    kiosk_on(data, ils, tmp_path).close()  # it ran here before: its journal and reserve
    filler = fill(disk, leave_kb=8)  # too little even to open the journal's index
    runtime = kiosk_on(data, ils, tmp_path)
    try:
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
        assert runtime.view.out_of_service.cause == "full"
        filler.unlink()
        runtime.clock.advance(PROBE_EVERY_S)
        runtime.pump()
        assert runtime.view.screen is Screen.ATTRACT
    finally:
        runtime.close()
    services = [r.outcome for r in rows_of(data / "journal.sqlite3") if r.kind == "service"]
    assert services == ["out_of_service", "restored"]


def test_a_read_only_partition_at_start_is_out_of_service_then_back_when_remounted(
        disk, ils, tmp_path, caplog):
    data = disk / "data"
    Journal.open(data / "journal.sqlite3", data / "patron.key").close()
    remount(disk, "ro")
    runtime = kiosk_on(data, ils, tmp_path)
    try:
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
        assert runtime.view.out_of_service.cause == "read_only"
        assert any("read-only" in line for line in out_of_service_lines(caplog))
        runtime.send(ev.AdminGesture())  # staff come to look: their row waits in memory
        enter_pin(runtime, STAFF_PIN)
        assert runtime.view.screen is Screen.ADMIN and runtime.keeper.held_rows == 1
        runtime.send(ev.EndSession())
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
        remount(disk, "rw")
        runtime.clock.advance(PROBE_EVERY_S)
        runtime.pump()
        assert runtime.view.screen is Screen.ATTRACT and runtime.keeper.held_rows == 0
        borrowing(runtime)
        scan(runtime, BOOKS[0])
        assert runtime.view.circulation.lines[0].status == "ok"
    finally:
        runtime.close()
    rows = rows_of(data / "journal.sqlite3")
    kinds = [(r.kind, r.outcome) for r in rows]
    assert kinds.index(("admin", "ok")) < kinds.index(("service", "restored"))
    late = next(r for r in rows if r.kind == "admin")
    assert late.detail["written_late"] < late.time_utc  # when it happened, kept
    assert ("checkout", "ok") in kinds


def test_a_partition_that_goes_read_only_under_the_kiosk_stops_it(disk, ils, tmp_path):
    """What ext4 does on a card error (errors=remount-ro): writes fail from one moment on."""
    runtime = kiosk_on(disk / "data", ils, tmp_path)
    try:
        borrowing(runtime)
        scan(runtime, BOOKS[0])
        os.system(f"mount -o remount,abort {disk}")
        scan(runtime, BOOKS[1])
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
        assert runtime.view.out_of_service.cause == "read_only"
        assert BOOKS[1] not in ils.data.loans  # its intent failed: never sent
    finally:
        runtime.close()


@pytest.mark.parametrize("harm", ["delete", "replace", "truncate"])
def test_a_journal_harmed_under_the_running_kiosk_is_out_of_service_for_good(
        tmp_path, ils, harm):
    data = tmp_path / "data"
    runtime = kiosk_on(data, ils, tmp_path)
    path = runtime.config.journal_path
    try:
        borrowing(runtime)
        scan(runtime, BOOKS[0])
        if harm == "delete":
            path.unlink()
        elif harm == "replace":
            shutil.copy(path, tmp_path / "copy")
            os.replace(tmp_path / "copy", path)
        else:
            os.truncate(path, 0)
        scan(runtime, BOOKS[1])
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
        assert runtime.view.out_of_service.cause == "replaced"
        assert BOOKS[1] not in ils.data.loans
        runtime.clock.advance(PROBE_EVERY_S * 3)
        runtime.pump()
        assert runtime.view.screen is Screen.OUT_OF_SERVICE  # staff decide, not the kiosk
    finally:
        runtime.close()


def test_a_harmed_journal_is_noticed_without_a_patron(tmp_path, ils):
    runtime = kiosk_on(tmp_path / "data", ils, tmp_path)
    try:
        runtime.config.journal_path.unlink()
        runtime.clock.advance(CHECK_EVERY_S)
        runtime.pump()
        assert runtime.view.screen is Screen.OUT_OF_SERVICE
    finally:
        runtime.close()
