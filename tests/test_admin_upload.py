"""Staff send the counts now from the admin screen: the runtime runs one upload on a worker
thread against a real server on 127.0.0.1, and the admin screen's checks are read again."""

import json

import pytest

from kiosk import config as config_module
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.pin import hash_pin
from kiosk.journal import Journal
from kiosk.runtime import Runtime
from tests.counting_server import TOKEN, CountingServer
from tests.runtime_kiosk import pump_until
from tests.staff_pin import enter_pin

PIN = "2580"


def admin_runtime(tmp_path, url, retries: int = 5):
    token = tmp_path / "central.token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n'
                    f'[admin]\npin_hash = "{hash_pin(PIN, iterations=100_000)}"\n'
                    f'[central]\nurl = "{url}"\npause_s = 0.0\ntimeout_s = 2.0\n'
                    f'retries = {retries}\n',
                    encoding="utf-8")
    config = config_module.load(path)
    runtime = Runtime(config, Journal.open(config.journal_path, config.patron_key_path))
    runtime.start()
    runtime.send(ev.Start())
    runtime.send(ev.EndSession())  # a patron's visit: a session row to upload
    runtime.send(ev.AdminGesture())
    enter_pin(runtime, PIN)
    assert runtime.view.screen is Screen.ADMIN
    pump_until(runtime, lambda: runtime.view.status is not None)  # the checks on entering
    return runtime



def central_check(runtime):
    status = runtime.view.status
    return next((c for c in status.checks if c.name == "central"), None) if status else None


def unsent(runtime):
    with Journal.open_existing(runtime.config.journal_path) as journal:
        return journal.unsent_count()


def test_upload_now_sends_every_row_once_and_reads_the_checks_again(tmp_path):
    with CountingServer() as server:
        runtime = admin_runtime(tmp_path, server.url)
        try:
            runtime.send(ev.UploadRequested())
            assert runtime.view.uploading
            runtime.send(ev.UploadRequested())  # a second press while it runs does nothing
            pump_until(runtime, lambda: not runtime.view.uploading)
            # The checks are read again: the central one now names the last upload.
            pump_until(runtime, lambda: (check := central_check(runtime)) is not None
                       and "when" in check.summary.args)
            # The visit, the staff sign-in and the press of the button itself.
            assert unsent(runtime) == 0
            assert server.totals["session"] == 1 and server.totals["admin"] == 2
            # What the admin screen says of it: the rows and the counts they made.
            result = runtime.view.upload_result
            assert result.ok and (result.rows, result.left) == (3, 0)
            assert result.counts == len(json.loads(server.bodies[0][1])["counts"])
            assert len(server.heartbeats) == 1
        finally:
            runtime.close()


def test_a_failed_upload_shows_on_the_admin_screen(tmp_path):
    with CountingServer(script=["401"]) as server:
        runtime = admin_runtime(tmp_path, server.url)
        try:
            runtime.send(ev.UploadRequested())
            pump_until(runtime, lambda: not runtime.view.uploading)
            pump_until(runtime, lambda: getattr(central_check(runtime), "ok", None) is False)
            assert "401" in central_check(runtime).summary.args["error"]
            assert unsent(runtime) == 3
            result = runtime.view.upload_result
            assert not result.ok and (result.cause, result.status) == ("token_refused", 401)
            assert (result.rows, result.left) == (0, 3)
        finally:
            runtime.close()


def test_upload_is_asked_for_only_on_the_admin_screen(tmp_path):
    with CountingServer() as server:
        runtime = admin_runtime(tmp_path, server.url)
        try:
            runtime.send(ev.EndSession())
            runtime.send(ev.UploadRequested())
            assert not runtime.view.uploading and server.bodies == []
        finally:
            runtime.close()


@pytest.mark.parametrize("script, cause, status", [
    (["500"], "server_error", 500),  # no retries here: the timer's next run tries again
    (["drop"], "unreachable", 0),
])
def test_why_an_upload_failed_is_kept_for_the_screen(tmp_path, script, cause, status):
    with CountingServer(script=script) as server:
        runtime = admin_runtime(tmp_path, server.url, retries=0)
        try:
            runtime.send(ev.UploadRequested())
            pump_until(runtime, lambda: runtime.view.upload_result is not None)
            result = runtime.view.upload_result
            assert not result.ok and (result.cause, result.status) == (cause, status)
        finally:
            runtime.close()
