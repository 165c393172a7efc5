"""`kiosk devices list|listen|secure|unsecure` as a technician runs them, against simulators
that speak the real wire protocols on ptys in this test process."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from drivers.rfid import tagdata
from drivers.sim.m810 import start_m810_sim
from drivers.sim.rfid_pad import LineFault, Op, SimPad, SimTag
from tests.conftest import ROOT
from tests.test_cli import kiosk

UID = "E004015000000042"


@pytest.fixture
def reader(tmp_path):
    """A paced 3M 810 twin at a stable path, with one secured book on the pad."""
    pad = SimPad()
    memory = bytearray(112)
    memory[:32] = tagdata.encode("iso28560-3", item_id="33520000123453", isil="CN-430281")
    pad.tags[UID] = SimTag(UID, memory, afi=0x07)
    twin = start_m810_sim(pad, tmp_path / "kiosk-rfid", paced=True)
    yield pad, tmp_path / "kiosk-rfid"
    twin.close()


def config_file(tmp_path, devices: str) -> str:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[devices]\n{devices}', encoding="utf-8")
    return str(path)


class Listener:
    """`kiosk devices listen` in a subprocess, its JSON lines read as they come."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "kiosk", "devices", "listen", *args],
                                        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(json.loads(line))

    def expect(self, predicate, timeout: float = 10.0) -> dict:
        deadline, seen = time.monotonic() + timeout, []
        while time.monotonic() < deadline:
            try:
                event = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(event)
            if predicate(event):
                return event
        raise AssertionError(f"no such line; saw {seen}; stderr: {self.stop()[1]}")

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=10)
        return self.process.returncode, err


def test_listen_prints_the_tags_on_a_real_protocol_pad_as_json_lines(reader, tmp_path):
    pad, path = reader
    listener = Listener("--config", config_file(tmp_path, ""), "--source", f"3m810:{path}")
    connected = listener.expect(lambda e: e["type"] == "device")
    assert (connected["source"], connected["state"]) == (f"3m810:{path}", "connected")
    pad.place(UID)
    tags = listener.expect(lambda e: e["type"] == "tags" and e["tags"])
    assert tags["tags"] == [{"uid": UID, "item_id": "33520000123453", "isil": "CN-430281",
                             "usage": "circulating", "part": 1, "parts": 1, "secured": True,
                             "model": "iso28560-3", "error": None}]
    assert tags["sets"] == [{"item_id": "33520000123453", "parts": 1, "present": [1],
                             "complete": True}]
    pad.remove(UID)
    assert listener.expect(lambda e: e["type"] == "tags")["tags"] == []
    assert listener.stop()[0] == 0


def test_listen_names_configured_devices_and_shows_one_that_is_missing(tmp_path):
    config = config_file(tmp_path, f'rfid = "3m810:{tmp_path}/nothing-here"\n')
    listener = Listener("--config", config)
    lost = listener.expect(lambda e: e["type"] == "device")
    assert (lost["source"], lost["state"]) == ("rfid", "lost")
    assert "No such file" in lost["detail"]
    assert listener.stop()[0] == 0


def test_unsecure_then_secure_one_tag_and_print_what_was_read_back(reader, tmp_path):
    pad, path = reader
    pad.place(UID)
    config = config_file(tmp_path, f'rfid = "3m810:{path}"\n')
    result = kiosk("devices", "unsecure", "--config", config, "--source", "rfid",
                   "--uid", UID.lower())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"source": "rfid", "uid": UID, "asked": "unsecured",
                                         "secured": False, "value": "0xC2", "error": None}
    assert pad.tags[UID].afi == 0xC2
    result = kiosk("devices", "secure", "--config", config, "--source", "rfid", "--uid", UID)
    assert json.loads(result.stdout)["value"] == "0x07" and pad.tags[UID].afi == 0x07
    assert [h[0] for h in pad.history] == ["write_afi", "write_afi"]


@pytest.mark.parametrize("op, faults, code, secured, value", [
    (Op.WRITE_SECURITY, [LineFault.LOST], 0, False, "0xC2"),  # written; only the reply was lost
    (Op.WRITE_SECURITY, [LineFault.UNHEARD], 1, True, "0x07"),  # never reached the tag
    # The first read is the pad's own when it first sees the tag; then the read-back and the
    # read again after it: the state cannot be known.
    (Op.READ_SECURITY, [LineFault.LOST] * 3, 2, None, None),
], ids=["reply-lost", "write-lost", "read-back-lost"])
def test_unsecure_exits_by_the_state_read_back_and_names_the_real_timeout(
        reader, tmp_path, op, faults, code, secured, value):
    pad, path = reader
    pad.place(UID)
    pad.plan(op, *faults)
    config = config_file(tmp_path, f'rfid = "3m810:{path}"\n')
    result = kiosk("devices", "unsecure", "--config", config, "--source", "rfid", "--uid", UID)
    assert result.returncode == code, result.stderr
    printed = json.loads(result.stdout)
    assert (printed["asked"], printed["secured"], printed["value"]) == ("unsecured", secured, value)
    assert "within 0.4 s" in printed["error"] and "within 0.4 s" in result.stderr
    assert "5 s" not in result.stderr and "rfid: rfid:" not in result.stderr
    assert pad.line_faults == [(op, fault) for fault in faults]
    assert {0: "unsecured", 1: "still secured", 2: "unknown"}[code] in result.stderr


def test_security_commands_refuse_bad_uids_and_missing_tags_plainly(reader, tmp_path):
    pad, path = reader
    config = config_file(tmp_path, f'rfid = "3m810:{path}"\nscanner = "sim:scanner"\n')
    bad = kiosk("devices", "secure", "--config", config, "--source", "rfid", "--uid", "E004")
    assert bad.returncode == 2 and "16 hex digits" in bad.stderr
    absent = kiosk("devices", "secure", "--config", config, "--source", "rfid", "--uid", UID)
    assert absent.returncode == 2 and "Traceback" not in absent.stderr
    assert json.loads(absent.stdout)["secured"] is None
    assert "did not answer" in absent.stderr and "on the pad" in absent.stderr
    not_rfid = kiosk("devices", "secure", "--config", config, "--source", "scanner", "--uid", UID)
    assert not_rfid.returncode == 2 and "not an RFID reader" in not_rfid.stderr
    assert pad.history == []


def test_list_shows_each_configured_device_and_what_it_matches(reader, tmp_path):
    _, path = reader
    config = config_file(tmp_path, f'rfid = "3m810:{path}"\nscanner = "evdev:0c2e:0b61"\n'
                                   'demo = "sim:serial-scanner"\n')
    result = kiosk("devices", "list", "--json", "--config", config)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    states = {c["name"]: c["state"] for c in listing["configured"]}
    assert states["rfid"] == f"found: {os.path.realpath(path)} (not a USB or input device)"
    assert states["scanner"] == "NOT FOUND"
    assert states["demo"] == "simulated"
    text = kiosk("devices", "list", "--config", config).stdout
    assert "Configured devices:" in text and "evdev:0c2e:0b61" in text and "NOT FOUND" in text
