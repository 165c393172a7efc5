"""`kiosk run` under a stand-in for systemd: a real notify socket, the real app under Xvfb.

READY=1 after the window is up, WATCHDOG=1 from the Kivy clock that stops while the process is
stopped (SIGSTOP: what a hung UI looks like to systemd) and resumes after SIGCONT, STATUS= as
the kiosk's state changes, STOPPING=1 at the end.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import config as config_module
from kiosk.journal import Journal
from kiosk.runtime import Runtime
from kiosk.ui.service_link import IN_SERVICE, ServiceLink
from tests.conftest import ROOT
from tests.notify_socket import NotifySocket
from tests.waiting import wait_until

WATCHDOG_S = 3.0  # a ping every second; systemd's own default for the kiosk is 30 s
TITLE = "Library kiosk"
needs_display = pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                   reason="needs Xvfb: run ./setup.sh test")


@pytest.fixture
def systemd(tmp_path):
    sock = NotifySocket(tmp_path / "notify")
    yield sock
    sock.close()


def start_kiosk(tmp_path, systemd, *args, env=None):
    env = {**os.environ, "HOME": str(tmp_path), **systemd.env(WATCHDOG_S), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "kiosk", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(app) -> str:
    if app.poll() is None:
        app.send_signal(signal.SIGTERM)
    try:
        _, log = app.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        app.kill()
        _, log = app.communicate()
        pytest.fail(f"the app ignored SIGTERM: {log[-2000:]}")
    return log


def stopped(process: subprocess.Popen) -> bool:
    """Whether the kernel has stopped `process` (state T in /proc/PID/stat)."""
    stat = Path(f"/proc/{process.pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] == "T"


def window_exists(title=TITLE) -> bool:
    return subprocess.run(["xwininfo", "-name", title], capture_output=True).returncode == 0


@needs_display
@pytest.mark.ui
@pytest.mark.slow
def test_ready_after_the_first_frame_then_watchdog_pings_that_stop_while_stopped(
        tmp_path, systemd):
    app = start_kiosk(tmp_path, systemd, "run", "--demo")
    try:
        ready = systemd.wait_for("READY=1", app=app)
        assert window_exists(), "READY=1 came before the kiosk's window existed"
        assert f"STATUS={IN_SERVICE}" in ready
        for _ in range(3):
            systemd.wait_for("WATCHDOG=1", timeout=30, app=app)

        app.send_signal(signal.SIGSTOP)
        # A ping is in the socket once sent: what was sent before the stop is all drained.
        wait_until(lambda: stopped(app), 10, "the kiosk stopped by SIGSTOP")
        systemd.drain()
        assert systemd.receive(timeout=3 * WATCHDOG_S) is None, "pings from a stopped process"

        app.send_signal(signal.SIGCONT)
        systemd.wait_for("WATCHDOG=1", timeout=30, app=app)
        log = stop(app)
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGCONT)
            app.kill()
    assert app.returncode == 0, log[-2000:]
    systemd.drain()
    assert systemd.messages[-1] == ["STOPPING=1", "STATUS=stopping"]


def test_no_pings_once_the_runtime_stops_turning(tmp_path, systemd, monkeypatch):
    """A runtime whose pump no longer runs (the UI may still draw) gets no more pings."""
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    config = config_module.load(path)
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path))
    runtime.start()
    try:
        for name, value in systemd.env(WATCHDOG_S).items():
            monkeypatch.setenv(name, value)
        link = ServiceLink(progressed_since=runtime.turned_since)
        runtime.pump()
        assert link.ping() and systemd.receive(5) == ["WATCHDOG=1"]
        # No turn of the runtime between two pings: the second is withheld.
        assert not link.ping() and systemd.receive(0.2) is None
        runtime.pump()  # turning again: pinging again
        assert link.ping() and systemd.receive(5) == ["WATCHDOG=1"]
    finally:
        runtime.close()


def test_no_watchdog_asked_no_pings(systemd, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert ServiceLink().ping() is False and systemd.receive(0.2) is None


@needs_display
@pytest.mark.ui
def test_a_journal_that_cannot_be_opened_is_out_of_service_in_the_status(tmp_path, systemd):
    """The running kiosk's own out-of-service state (issue 12) reaches `systemctl status`."""
    journal = tmp_path / "journal.sqlite3"
    journal.write_bytes(b"not a database, and never ours" * 100)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[journal]\npath = "{journal}"\n',
                      encoding="utf-8")
    app = start_kiosk(tmp_path, systemd, "run", "--config", str(config))
    try:
        ready = systemd.wait_for("READY=1", app=app)
        systemd.wait_for("WATCHDOG=1", timeout=30, app=app)  # out of service, yet alive
        log = stop(app)
    finally:
        if app.poll() is None:
            app.kill()
    status = next(line for line in ready if line.startswith("STATUS="))
    assert status.startswith("STATUS=out of service: ") and str(journal) in status, status
    assert app.returncode == 0, log[-2000:]


@needs_display
@pytest.mark.ui
@pytest.mark.slow
def test_the_status_follows_the_kiosk_going_out_of_service(tmp_path, systemd):
    """The journal deleted under the running kiosk: its check (every 10 s) finds it, the kiosk
    goes out of service, and systemd hears it."""
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n', encoding="utf-8")
    app = start_kiosk(tmp_path, systemd, "run", "--config", str(config))
    try:
        assert f"STATUS={IN_SERVICE}" in systemd.wait_for("READY=1", app=app)
        (tmp_path / "journal.sqlite3").unlink()
        changed = systemd.wait_for("STATUS=out of service: ...", timeout=60, app=app)
        systemd.wait_for("WATCHDOG=1", timeout=30, app=app)  # out of service, still pinging
        log = stop(app)
    finally:
        if app.poll() is None:
            app.kill()
    assert "journal" in changed[0] and app.returncode == 0, (changed, log[-2000:])
