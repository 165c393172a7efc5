"""The ESC/POS receipt printer: the encoder and status parser alone, then the real driver
against its twin on a pty (jobs read back, paper out, no answer, unplug, two threads)."""

from __future__ import annotations

import json
import os
import queue
import threading
import time

import pytest

from drivers.errors import (
    PrinterCoverOpen,
    PrinterOffline,
    PrinterPaperOut,
    PrinterTimeout,
    SourceError,
)
from drivers.events import DeviceFault
from drivers.printer.escpos import (
    PrinterSetup,
    PrinterStatus,
    encode_job,
    encode_text,
    parse_status,
    status_request,
)
from drivers.printer.serial_printer import SerialPrinter
from drivers.registry import check_source, open_source
from drivers.sim.printer import PrintedJob, SimPrinter
from drivers.source import parse
from kiosk.ui.device_labels import PRINTER, device_label
from tests.driver_events import kind, state, until, wait_for
from tests.test_cli import kiosk

STATUS_REQUESTS = b"\x10\x04\x01\x10\x04\x02\x10\x04\x04"
RECEIPT = ("醴陵市图书馆\n"
           "借书凭条 Borrowing receipt\n"
           "1. 红楼梦\n"
           "   应还日期 Due back 2026-12-24\n")


# --- the encoder and the status parser, pure ----------------------------------------------

def test_a_small_receipt_byte_for_byte():
    job = encode_job("Library\nBook 1\n", "AB", PrinterSetup(32, "cp437", qr=True, cut=True))
    assert job == bytes.fromhex(
        "1b40"                                    # ESC @: initialise
        "1c2e" "1b7400"                           # FS .: no Chinese mode; ESC t 0: cp437
        "1b4501" "1d2101" "4c696272617279" "0a" "1d2100" "1b4500"  # the header, bold and tall
        "426f6f6b2031" "0a"                       # Book 1
        "1b6101"                                  # centred
        "1d286b040031413200"                      # QR model 2
        "1d286b0300314304"                        # module 4 dots (58 mm paper)
        "1d286b0300314531"                        # error correction M
        "1d286b050031503041 42"                   # store "AB"
        "1d286b0300315130"                        # print it
        "1b6100"                                  # left again
        "1b6403"                                  # feed 3 lines
        "1d5601")                                 # partial cut


def test_without_qr_or_cutter_neither_is_sent():
    job = encode_job("Library\n", "AB", PrinterSetup(48, "gb18030", qr=False, cut=False))
    assert job == bytes.fromhex("1b40" "1c26" "1b4501" "1d2101" "4c696272617279" "0a"
                                "1d2100" "1b4500" "1b6403")


def test_chinese_text_is_gb18030_after_fs_ampersand():
    assert encode_text("红楼梦", "gb18030") == bytes.fromhex("baecc2a5c3ce")
    assert encode_text("€𠀀", "gb18030") == bytes.fromhex("a2e3" "95328236")  # beyond GBK
    assert encode_text("红楼梦", "cp936") == bytes.fromhex("baecc2a5c3ce")
    job = encode_job("红楼梦\n", None, PrinterSetup(32, "gb18030"))
    assert job.startswith(bytes.fromhex("1b40" "1c26" "1b4501" "1d2101" "baecc2a5c3ce" "0a"))


def test_what_a_code_page_lacks_prints_as_a_question_mark_and_controls_are_dropped():
    assert encode_text("Café 红", "cp437") == b"Caf\x82 ?"
    assert encode_text("A\x1b@B\x1dV\x01C", "cp850") == b"A@BVC"  # never a command from a title


def test_qr_code_lengths_are_little_endian():
    payload = "读" * 100  # 300 bytes of UTF-8
    job = encode_job("x\n", payload, PrinterSetup(42, "gb18030"))
    store = bytes.fromhex("1d286b") + (303).to_bytes(2, "little") + b"\x31\x50\x30"
    assert store + payload.encode("utf-8") in job
    assert bytes.fromhex("1d286b0300314305") in job  # module 5 dots on 80 mm paper


def test_status_requests_and_replies():
    assert status_request(1) == b"\x10\x04\x01"
    assert parse_status(0x16, 0x12, 0x12) == PrinterStatus(True, False, False, False, False)
    assert parse_status(0x1E, 0x16, 0x12).problem() == "cover open"
    assert parse_status(0x1E, 0x32, 0x72).problem() == "out of paper"
    assert parse_status(0x12, 0x12, 0x72).paper_end  # the roll sensor alone is enough
    near_end = parse_status(0x12, 0x12, 0x1E)
    assert near_end.paper_near_end and near_end.ready and near_end.problem() == ""
    assert parse_status(0x1E, 0x52, 0x12).problem() == "printer error"
    assert parse_status(0x1E, 0x12, 0x12).problem() == "printer offline"
    for bad in ((0x00, 0x12, 0x12), (0x12, 0x13, 0x12), (0x12, 0x12, 0x92)):
        with pytest.raises(ValueError, match="is not a reply to DLE EOT"):
            parse_status(*bad)


# --- sources ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("escpos:/dev/kiosk-printer?width=40", "option width must be one of 32, 42, 48"),
    ("escpos:/dev/kiosk-printer?codepage=utf8", "option codepage must be one of gb18030"),
    ("escpos:/dev/kiosk-printer?qr=maybe", "option qr must be one of yes, no"),
    ("escpos:/dev/kiosk-printer?cut=1", "option cut must be one of yes, no"),
    ("escpos:/dev/kiosk-printer?baud=fast", "option baud must be a number"),
    ("escpos:/dev/kiosk-printer?flow=dtr", "option flow must be one of none, rtscts, xonxoff"),
    ("escpos:/dev/kiosk-printer?role=card", "unknown option 'role'"),
    ("sim:printer?width=58", "option width must be one of 32, 42, 48"),
    ("sim:printer?baud=9600", "unknown option 'baud'"),
])
def test_check_source_names_the_bad_option(text, message):
    with pytest.raises(SourceError, match=message):
        check_source(text)


def test_good_sources_pass_and_patrons_call_it_the_receipt_printer():
    for text in ("escpos:/dev/kiosk-printer?baud=19200&width=42&codepage=gb18030",
                 "escpos:/dev/ttyUSB0?codepage=cp437&qr=no&cut=no&flow=rtscts",
                 "sim:printer?width=48&paced=no"):
        check_source(text)
        assert device_label(text) == PRINTER


# --- the driver against its twin ----------------------------------------------------------

def until_printed(twin: SimPrinter, count: int, *, cut: bool = True,
                  timeout: float = 5.0) -> tuple[PrintedJob, ...]:
    """The twin's jobs once `count` are there (and cut, unless the printer has no cutter)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = twin.printed
        if len(jobs) >= count and (not cut or all(job.cut for job in jobs)):
            return jobs
        time.sleep(0.01)
    pytest.fail(f"{count} jobs not printed within {timeout} s; got {twin.printed}")


@pytest.fixture
def printer(tmp_path):
    made = []

    def make(options: str = "", *, status_every_s: float = 5.0):
        twin = SimPrinter(tmp_path / f"printer{len(made)}").start()
        events: queue.Queue = queue.Queue()
        driver = SerialPrinter("printer", events, parse(f"escpos:{twin.link}?baud=19200{options}"),
                               status_every_s=status_every_s)
        driver.retry_delays = (0.05,)
        made.append((driver, twin))
        driver.start()
        connected = wait_for(events, state("connected"))
        assert connected.detail == f"{os.path.realpath(twin.link)} at 19200 baud, " \
                                   f"{driver.width} columns, {driver.setup.codepage}"
        return twin, driver, events

    yield make
    for driver, twin in made:
        driver.close()
        twin.close()


def test_a_job_is_printed_and_reads_back_the_same(printer):
    twin, driver, _ = printer("&width=42")
    driver.print_receipt(RECEIPT, qr="醴陵市图书馆 借书 红楼梦")
    assert until_printed(twin, 1) == (
        PrintedJob(tuple(RECEIPT.splitlines()), ("醴陵市图书馆 借书 红楼梦",), True),)
    assert twin.unknown == []
    # Status when it connected, status again before the job, then the job.
    assert twin.received == STATUS_REQUESTS * 2 + encode_job(
        RECEIPT, "醴陵市图书馆 借书 红楼梦", PrinterSetup(42, "gb18030"))


def test_a_single_byte_code_page_without_qr_or_cutter(printer):
    twin, driver, _ = printer("&codepage=cp850&qr=no&cut=no")
    driver.print_receipt("Liling Library\nCafé crème, 2 items\n", qr="not printed")
    driver.print_receipt("Second\n")
    assert until_printed(twin, 2, cut=False) == (
        PrintedJob(("Liling Library", "Café crème, 2 items"), (), False),
        PrintedJob(("Second",), (), False))


def test_out_of_paper_refuses_the_job_and_prints_nothing(printer):
    twin, driver, events = printer()
    twin.faults.paper = "out"
    before = len(twin.received)
    with pytest.raises(PrinterPaperOut, match="out of paper"):
        driver.print_receipt(RECEIPT)
    assert wait_for(events, state("lost")).detail == "out of paper"
    with pytest.raises(PrinterPaperOut, match="printer: out of paper"):
        driver.print_receipt(RECEIPT)  # refused at once while the paper is out
    assert twin.printed == ()
    asked = bytes(twin.received[before:]).split(b"\x10\x04")  # DLE EOT n, and nothing else
    assert set(asked) <= {b"", b"\x01", b"\x02", b"\x04"}
    twin.faults.paper = "ok"
    wait_for(events, state("connected"))
    driver.print_receipt(RECEIPT)
    assert until_printed(twin, 1)[0].lines == tuple(RECEIPT.splitlines())


def test_an_open_cover_refuses_the_job(printer):
    twin, driver, events = printer()
    twin.faults.cover_open = True
    with pytest.raises(PrinterCoverOpen, match="cover open"):
        driver.print_receipt(RECEIPT)
    assert wait_for(events, state("lost")).detail == "cover open"
    assert twin.printed == ()


def test_no_answer_is_a_timeout_and_the_printer_is_shown_lost(printer):
    twin, driver, events = printer()
    twin.faults.silent = True
    with pytest.raises(PrinterTimeout, match="no answer to DLE EOT 1 within 1 s"):
        driver.print_receipt(RECEIPT)
    assert wait_for(events, state("lost")).detail.startswith("no answer to DLE EOT 1")
    with pytest.raises(PrinterTimeout):
        driver.print_receipt(RECEIPT)
    assert twin.printed == ()
    twin.faults.silent = False
    wait_for(events, state("connected"))


def test_paper_near_end_is_shown_and_printing_goes_on(printer):
    twin, driver, events = printer(status_every_s=0.05)
    twin.faults.paper = "near_end"
    assert wait_for(events, state("connected")).detail.endswith("gb18030, paper near end")
    driver.print_receipt(RECEIPT)
    assert len(until_printed(twin, 1)) == 1


def test_garbage_before_the_status_is_a_fault_and_the_job_prints(printer):
    twin, driver, events = printer()
    twin.faults.garbage = b"\xff"
    driver.print_receipt(RECEIPT)
    assert until(events, kind(DeviceFault)) == [
        DeviceFault("printer", "0xFF is not a reply to DLE EOT 1", 1)]
    assert len(until_printed(twin, 1)) == 1


def test_unplugged_is_lost_refused_and_plugged_again_prints(printer):
    twin, driver, events = printer()
    twin.unplug()
    wait_for(events, state("lost"))
    with pytest.raises(PrinterOffline, match="printer: "):
        driver.print_receipt(RECEIPT)
    twin.replug()
    wait_for(events, state("connected"))
    driver.print_receipt(RECEIPT)
    assert until_printed(twin, 1)[0].lines == tuple(RECEIPT.splitlines())


def test_two_threads_each_get_their_whole_job_printed_in_turn(printer):
    twin, driver, _ = printer()
    texts = {name: "".join(f"{name} {n} 红楼梦第{n}回\n" for n in range(40)) for name in "AB"}
    finished: list[str] = []
    start = threading.Barrier(2)

    def print_one(name: str) -> None:
        start.wait()
        driver.print_receipt(texts[name])
        finished.append(name)

    threads = [threading.Thread(target=print_one, args=(name,)) for name in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    jobs = until_printed(twin, 2)
    # Each job whole, one after the other; which came first is the scheduler's choice (a thread
    # can be paused between its job printing and its noting that it did).
    assert sorted(job.text for job in jobs) == [texts["A"], texts["B"]]
    assert sorted(finished) == ["A", "B"]


def test_a_submitted_job_answers_through_its_future(printer):
    twin, driver, events = printer()
    assert driver.submit_receipt(RECEIPT).result(timeout=5) is None
    assert len(until_printed(twin, 1)) == 1
    twin.faults.paper = "out"
    with pytest.raises(PrinterPaperOut):
        driver.submit_receipt(RECEIPT).result(timeout=5)
    wait_for(events, state("lost"))
    refused = driver.submit_receipt(RECEIPT)
    assert refused.done() and isinstance(refused.exception(), PrinterPaperOut)
    assert len(twin.printed) == 1


def test_sim_printer_source_wires_the_driver_to_its_twin():
    events: queue.Queue = queue.Queue()
    with open_source("printer", "sim:printer?paced=no&width=48&codepage=cp936", events) as device:
        assert wait_for(events, state("connected")).detail.endswith("48 columns, cp936")
        device.print_receipt("醴陵市图书馆\n共 1 册\n", qr="x")
        assert until_printed(device.twin, 1) == (
            PrintedJob(("醴陵市图书馆", "共 1 册"), ("x",), True),)
        assert device.width == 48


def test_devices_listen_shows_the_printer_connected_and_out_of_paper(tmp_path):
    twin = SimPrinter(tmp_path / "kiosk-printer").start()
    try:
        listen = kiosk("devices", "listen", "--source", f"escpos:{twin.link}?baud=19200",
                       "--seconds", "1.5", "--config", str(_config(tmp_path)))
        lines = [json.loads(line) for line in listen.stdout.splitlines()]
        assert lines[0]["type"] == "device" and lines[0]["state"] == "connected"
        assert "19200 baud, 32 columns, gb18030" in lines[0]["detail"]
        twin.faults.paper = "out"
        listen = kiosk("devices", "listen", "--source", f"escpos:{twin.link}",
                       "--seconds", "1.5", "--config", str(_config(tmp_path)))
        assert json.loads(listen.stdout.splitlines()[0]) == {
            "type": "device", "source": f"escpos:{twin.link}", "state": "lost",
            "detail": "out of paper"}
    finally:
        twin.close()


def _config(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    return path
