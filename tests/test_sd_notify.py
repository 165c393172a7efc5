"""systemd's notify protocol against a real AF_UNIX datagram socket standing in for systemd's."""

import os
import socket

import pytest

from kiosk import sd_notify


@pytest.fixture
def listener(tmp_path, monkeypatch):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify"
    sock.bind(str(path))
    sock.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield sock
    sock.close()


def test_one_datagram_of_newline_separated_lines(listener):
    assert sd_notify.notify(sd_notify.READY, sd_notify.status("in service"))
    assert listener.recv(4096) == b"READY=1\nSTATUS=in service"


def test_an_abstract_socket_written_with_an_at_sign(monkeypatch):
    name = f"kiosk-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sd_notify.notify(sd_notify.WATCHDOG)
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_status_is_one_line_in_utf8(listener):
    sd_notify.notify(sd_notify.status("out of service: kiosk.toml:\n  not valid TOML «x»"))
    assert listener.recv(4096).decode() == "STATUS=out of service: kiosk.toml: not valid TOML «x»"


def test_nothing_is_sent_outside_systemd_or_when_nobody_listens(tmp_path, monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sd_notify.notify(sd_notify.READY) is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sd_notify.notify(sd_notify.READY) is False
    monkeypatch.setenv("NOTIFY_SOCKET", "vsock:2:1234")
    assert sd_notify.notify(sd_notify.READY) is False


@pytest.mark.parametrize("usec, pid, expected", [
    ("30000000", None, 30.0),
    ("30000000", "self", 30.0),
    ("30000000", "1", None),  # meant for another process (our parent, say)
    ("0", None, None),
    ("", None, None),
    ("soon", None, None),
    (None, None, None),
])
def test_watchdog_interval(monkeypatch, usec, pid, expected):
    for name, value in (("WATCHDOG_USEC", usec),
                        ("WATCHDOG_PID", str(os.getpid()) if pid == "self" else pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert sd_notify.watchdog_interval_s() == expected
