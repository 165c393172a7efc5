"""`kiosk media scan | install NAME` as a technician runs it, against the real media helper
process and a real loop-device stick (tests/media_stick.py; rauc stood in at the lowest
layer). Batches on the stick are listed too, each placed against the kiosk's catalogue."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from content.store import CatalogueStore
from tests.conftest import ROOT
from tests.content_batches import Batches
from tests.media_stick import Helper, batch_stick_files_of_every_standing, usb_stick, why_not

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


def test_scan_lists_each_batch_with_its_name_titles_and_standing(tmp_path):
    reason = why_not("ext4")
    if reason:
        pytest.skip(reason)
    batches = Batches(tmp_path / "batches", count=24)
    data = tmp_path / "data"
    CatalogueStore(data / "catalogue").apply(batches.first, batches.public)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{data}"\n')
    files = tmp_path / "files"
    files.mkdir()
    with usb_stick(tmp_path, "ext4", batch_stick_files_of_every_standing(batches, files)) as dev:
        helper = Helper(tmp_path, usb=dev.removeprefix("/dev/"), from_image=False)
        try:
            done = kiosk_media(helper, "scan", "--config", str(config))
        finally:
            helper.stop()
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "e-book catalogue: 2026-11-1" in out, out
    for line in ("2026-10.tar  e-book batch  2026-10  24 titles  1.0 MB  older than the "
                 "catalogue: only with kiosk content apply --allow-older",
                 "2026-11.tar  e-book batch  2026-11  24 titles  1.0 MB  already applied",
                 "2026-12  e-book batch (folder)  2026-12  8 titles  0.2 MB  newer: apply it",
                 "2027-01.tar  e-book batch  2027-01  8 titles  0.3 MB  newer, after 2026-12",
                 "broken.tar  e-book batch  ?  0.0 MB  cannot be read: "):
        assert f"  {line}" in out, (line, out)
    assert "kiosk-0.3.0-arm64.raucb  system" in out and "3 other file(s)" in out, out


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
