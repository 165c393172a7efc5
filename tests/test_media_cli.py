"""`kiosk media scan | install NAME` as a technician runs it, against the real media helper
process and a real loop-device stick (tests/media_stick.py; rauc stood in at the lowest
layer)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.media_stick import Helper, usb_stick, why_not

FILES = {"kiosk-0.3.0-arm64.raucb": {"version": "0.3.0"},
         "kiosk-0.1.9-arm64.raucb": {"version": "0.1.9"}, "notes.txt": b"hello"}


@pytest.fixture
def helper(tmp_path):
    reason = why_not("ext4")
    if reason:
        pytest.skip(reason)
    with usb_stick(tmp_path, "ext4", FILES) as device:
        running = Helper(tmp_path, usb=device.removeprefix("/dev/"))
        running.go.touch()
        yield running
        running.stop()


def kiosk_media(helper, *args):
    env = {**os.environ, "KIOSK_MEDIA_SOCKET": str(helper.socket_path), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "kiosk", "media", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_scan_lists_each_bundle_with_kind_version_size_and_verdict(helper):
    done = kiosk_media(helper, "scan")
    assert done.returncode == 0, done.stderr
    assert "running system: 0.2.0" in done.stdout
    assert "mounted read-only at" in done.stdout
    assert "kiosk-0.3.0-arm64.raucb  system  0.3.0  0 MB  installable" in done.stdout
    assert "kiosk-0.1.9-arm64.raucb  system  0.1.9  0 MB  older: 0.1.9 is not newer" in done.stdout
    assert "other file(s)" in done.stdout


def test_install_prints_progress_and_exits_0_only_when_installed(helper):
    done = kiosk_media(helper, "install", "kiosk-0.3.0-arm64.raucb")
    assert done.returncode == 0, done.stderr
    assert " 20% Checking bundle" in done.stdout and "100% Installing done." in done.stdout
    assert "0.3.0 is installed. Next: reboot" in done.stdout
    older = kiosk_media(helper, "install", "kiosk-0.1.9-arm64.raucb")
    assert older.returncode == 1 and "refused (older)" in older.stderr
    missing = kiosk_media(helper, "install", "kiosk-9.raucb")
    assert missing.returncode == 1 and "no bundle kiosk-9.raucb" in missing.stderr
    assert [call[0] for call in helper.calls("rauc")].count("install") == 1


def test_without_the_socket_it_says_so(tmp_path):
    env = {**os.environ, "KIOSK_MEDIA_SOCKET": str(tmp_path / "none.sock"),
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "kiosk", "media", "scan"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "kiosk-media.socket is not running" in done.stderr
