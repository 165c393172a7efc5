"""The root media helper as its own process behind a real socket, with a real loop device
holding a file system it mounts for real; only rauc, systemctl and lsblk's "this is USB" stood
in (tests/media_stick.py)."""

from __future__ import annotations

import time

import pytest

from kiosk.media.client import MediaClient
from kiosk.media.protocol import Failed, Installed, Problem, Progress, Rebooting, Released, Scanned
from tests.media_stick import Helper, mount_options, usb_stick, why_not

NEW, OLD = {"version": "0.3.0+20261206"}, {"version": "0.1.9"}
FILES = {"kiosk-0.3.0-arm64.raucb": NEW, "kiosk-0.1.9-arm64.raucb": OLD,
         "broken.raucb": b"not a bundle", "photo.jpg": b"\xff\xd8", "._kiosk.raucb": b"mac"}


def stick_or_skip(fstype):
    reason = why_not(fstype)
    if reason:
        pytest.skip(reason)


@pytest.fixture(params=["vfat", "ext4"])
def stick(request, tmp_path):
    stick_or_skip(request.param)
    with usb_stick(tmp_path, request.param, FILES) as device:
        yield device


@pytest.fixture
def helper(tmp_path, stick):
    running = Helper(tmp_path, usb=stick.removeprefix("/dev/"))
    yield running
    running.stop()


def test_scan_mounts_read_only_lists_bundles_and_hanging_up_unmounts(helper, stick):
    with MediaClient(helper.socket_path) as client:
        scanned = client.scan()
        assert isinstance(scanned, Scanned), scanned
        [found] = scanned.sticks
        assert found.device == stick and found.label == "KIOSKUSB"
        point = helper.mount_root / found.mount_point.rsplit("/", 1)[1]
        assert found.mount_point == str(point)
        assert {"ro", "nosuid", "nodev", "noexec"} <= mount_options(point)
        assert scanned.running_version == "0.2.0"
        bundles = {b.name: b for b in found.bundles}
        assert set(bundles) == {"kiosk-0.3.0-arm64.raucb", "kiosk-0.1.9-arm64.raucb",
                                "broken.raucb"}  # hidden ._ files are not bundles
        assert bundles["kiosk-0.3.0-arm64.raucb"].problem is None
        assert bundles["kiosk-0.3.0-arm64.raucb"].version == "0.3.0+20261206"
        assert bundles["kiosk-0.1.9-arm64.raucb"].problem is Problem.OLDER
        assert bundles["broken.raucb"].problem is Problem.NOT_A_BUNDLE
        assert "signature" in bundles["broken.raucb"].why
        assert "photo.jpg" in found.files and "._kiosk.raucb" not in found.files
    # The app hung up: the helper unmounts, without being asked.
    # The helper's thread sees the hang-up a moment later: wait (bounded) for the mount table.
    for _ in range(500):
        if mount_options(point) is None and not point.exists():
            break
        time.sleep(0.02)
    assert mount_options(point) is None and not point.exists()
    assert helper.process.poll() is None  # and keeps serving the next connection


def test_install_streams_progress_before_the_end_then_restarts_on_request(helper):
    seen: list[Progress] = []

    def on_progress(step):
        seen.append(step)
        if step.percent == 20:
            # rauc waits for this file: the line came while rauc was still running.
            helper.go.touch()

    with MediaClient(helper.socket_path) as client:
        scanned = client.scan()
        bundle = next(b for s in scanned.sticks for b in s.bundles if b.problem is None)
        assert isinstance(client.reboot(), Failed)  # nothing installed yet on this connection
        done = client.install(bundle.path, on_progress)
        assert done == Installed("0.3.0+20261206", bundle.path)
        assert [s.percent for s in seen] == [0, 20, 40, 100, None]
        assert seen[1].message == "Checking bundle"
        assert helper.calls("rauc")[-1] == ["install", bundle.path]
        assert isinstance(client.reboot(), Rebooting)
    assert helper.calls("systemctl") == [["reboot"]]


def test_install_refuses_what_scan_did_not_offer_and_older_bundles(helper, tmp_path):
    outside = tmp_path / "kiosk-9.9.9-arm64.raucb"
    outside.write_text('{"version": "9.9.9"}')
    with MediaClient(helper.socket_path) as client:
        before = client.install(str(outside))  # nothing scanned yet
        assert isinstance(before, Failed) and before.problem is Problem.NOT_FOUND
        scanned = client.scan()
        older = next(b for s in scanned.sticks for b in s.bundles if b.version == "0.1.9")
        for path in (str(outside), "/etc/passwd",
                     scanned.sticks[0].mount_point + "/../kiosk-0.3.0-arm64.raucb"):
            refused = client.install(path)
            assert isinstance(refused, Failed) and refused.problem is Problem.NOT_FOUND, path
        refused = client.install(older.path)
        assert isinstance(refused, Failed) and refused.problem is Problem.OLDER
        assert "0.1.9 is not newer than the running system 0.2.0" in refused.why
        assert ["install", older.path] not in helper.calls("rauc")
        assert all(call[0] != "install" for call in helper.calls("rauc"))


def test_release_unmounts_while_the_connection_stays(helper):
    with MediaClient(helper.socket_path) as client:
        point = client.scan().sticks[0].mount_point
        assert mount_options(point) is not None
        assert client.release() == Released(1)
        assert mount_options(point) is None
        assert isinstance(client.scan(), Scanned)  # and a new look mounts it again


def test_a_failed_install_says_rauc_s_own_words(tmp_path):
    stick_or_skip("ext4")
    files = {"kiosk-0.3.0-arm64.raucb": {"version": "0.3.0", "fail": "Compatible mismatch"}}
    with usb_stick(tmp_path, "ext4", files) as device:
        helper = Helper(tmp_path, usb=device.removeprefix("/dev/"))
        helper.go.touch()
        try:
            with MediaClient(helper.socket_path) as client:
                [bundle] = client.scan().sticks[0].bundles
                failed = client.install(bundle.path)
                assert isinstance(failed, Failed) and failed.problem is Problem.INSTALL_FAILED
                assert failed.why == "Compatible mismatch"  # RAUC's LastError, not "failed"
                assert isinstance(client.reboot(), Failed)
        finally:
            helper.stop()


def test_no_stick_is_said(tmp_path):
    stick_or_skip("ext4")
    helper = Helper(tmp_path, usb="")
    try:
        with MediaClient(helper.socket_path) as client:
            nothing = client.scan()
            assert isinstance(nothing, Failed) and nothing.problem is Problem.NO_STICK
    finally:
        helper.stop()


def test_stopping_the_helper_releases_the_sticks_of_open_connections(helper):
    with MediaClient(helper.socket_path) as client:
        point = client.scan().sticks[0].mount_point
        assert mount_options(point) is not None
        log = helper.stop()  # systemd stopping it (shutdown) while the admin screen is open
        assert mount_options(point) is None, log
        assert "releasing the sticks still mounted" in log


def test_nonsense_and_oversized_requests_are_answered_not_obeyed(helper):
    import socket

    from kiosk.media.protocol import MAX_REQUEST, decode_reply
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(helper.socket_path))
        reader = sock.makefile("rb")
        for line in (b'{"op": "format", "path": "/dev/sda"}\n', b"not json\n",
                     b'{"op": "install", "path": "' + b"a" * MAX_REQUEST + b'"}\n'):
            sock.sendall(line)
            reply = decode_reply(reader.readline())
            assert isinstance(reply, Failed) and reply.problem is Problem.BAD_REQUEST, reply
        sock.sendall(b'{"op": "scan"}\n')
        while isinstance(reply := decode_reply(reader.readline()), Failed):
            pass  # the rest of the oversized line, refused in turn
        assert isinstance(reply, Scanned)  # and the connection still serves
