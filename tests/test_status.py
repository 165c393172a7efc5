"""Status checks and `kiosk doctor` against real servers on 127.0.0.1 and real journal files."""

import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kiosk import config as config_module
from kiosk import status, system
from kiosk.i18n import Translator
from kiosk.journal import Journal
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT


@pytest.fixture
def sip_server():
    """The shipped test ILS, without logins: the check logs in and asks SC status."""
    with Sip2TestServer(IlsData(institution="test")) as server:
        yield server.address[1]


@pytest.fixture
def closed_port():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    return port


@pytest.fixture
def central_server():
    """An HTTP server that answers every GET with the status code its path's first part names
    (the check asks for {url}/api/v1/health), and the health answer with it."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            code = int(self.path.strip("/").split("/")[0] or 200)
            body = b'{"ok": true, "version": "test"}'
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def make_config(tmp_path, extra=""):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8")
    return config_module.load(path)


def give_token(config):
    config.central_token_path.parent.mkdir(parents=True, exist_ok=True)
    config.central_token_path.write_text("a-kiosk-token\n")
    config.central_token_path.chmod(0o600)


def by_name(report):
    return {check.name: check for check in report.checks}


def test_every_check_against_servers_that_answer(tmp_path, sip_server, central_server):
    config = make_config(tmp_path, f'[ils]\nhost = "127.0.0.1"\nport = {sip_server}\n'
                                   f'[central]\nurl = "{central_server}/200"\n'
                                   '[devices]\nscanner = "sim:scanner"\n'
                                   'rfid = "serial:/dev/ttyUSB0"\n')
    give_token(config)
    checks = by_name(status.gather(config))
    assert list(checks) == ["version", "config", "journal", "disk", "clock", "ebooks",
                            "device:rfid", "device:scanner", "ils", "central", "offline",
                            "unsettled"]
    assert checks["ils"].ok and f"127.0.0.1:{sip_server}" in checks["ils"].summary.english
    assert checks["central"].ok
    assert checks["central"].summary.english == ("reachable; 0 rows not yet uploaded, "
                                                 "none uploaded so far")
    assert checks["device:scanner"].ok
    assert checks["device:rfid"].ok is False
    assert checks["device:rfid"].summary.english == "not found: serial:/dev/ttyUSB0"
    assert "kiosk devices list" in checks["device:rfid"].advice.english
    assert checks["journal"].ok is None  # not created until the kiosk first starts
    assert checks["disk"].ok and "free of" in checks["disk"].summary.english
    assert checks["clock"].ok is system.clock_synchronised()
    assert checks["config"].advice.english.startswith("no staff PIN")
    assert checks["ebooks"].ok is None and "kiosk content apply" in checks["ebooks"].advice.english


def test_the_ebook_check_names_the_catalogue_or_its_damage(tmp_path):
    from content.store import CatalogueStore
    from tests.content_batches import Batches
    config = make_config(tmp_path, "")
    batches = Batches(tmp_path / "batches")
    CatalogueStore(config.catalogue_dir).apply(batches.first, batches.public)
    check = status.check_catalogue(config)
    assert check.ok and check.summary.english.endswith("titles licensed today (2026-11-1)")
    (config.catalogue_dir / "current/catalogue.sqlite3").write_bytes(b"damaged" * 100)
    check = status.check_catalogue(config)
    assert check.ok is False and "kiosk content rollback" in check.advice.english


def test_the_ebook_check_warns_when_the_kiosk_has_no_key_for_new_batches(tmp_path):
    from content.store import CatalogueStore
    from tests.content_batches import Batches
    config = make_config(tmp_path, "")
    batches = Batches(tmp_path / "batches")
    CatalogueStore(config.catalogue_dir).apply(batches.first, batches.public)
    check = status.check_catalogue(config)  # applied by hand with a key given on the command line
    assert check.ok and check.warning, check
    assert "content-signing.pub" in check.advice.english and "boot" in check.advice.english
    shutil.copy(batches.public, config.batch_public_key_path)
    check = status.check_catalogue(config)
    assert check.ok and not check.warning, check


def test_servers_that_do_not_answer_are_faults_with_advice(tmp_path, closed_port, central_server):
    config = make_config(tmp_path, f'[ils]\nhost = "127.0.0.1"\nport = {closed_port}\n'
                                   f'[central]\nurl = "{central_server}/503"\n')
    give_token(config)
    checks = by_name(status.gather(config))
    assert checks["ils"].ok is False
    assert "Connection refused" in checks["ils"].summary.english
    assert "SIP2" in checks["ils"].advice.english
    assert checks["central"].ok is False and "HTTP 503" in checks["central"].summary.english


def test_an_unreachable_central_server_names_the_reason(tmp_path, closed_port):
    config = make_config(tmp_path, f'[central]\nurl = "http://127.0.0.1:{closed_port}/"\n')
    check = status.check_central(config)
    assert check.ok is False and "no token at" in check.summary.english
    assert "kiosk-central kiosk add" in check.advice.english
    give_token(config)
    check = status.check_central(config)
    assert check.ok is False and "Connection refused" in check.summary.english


def test_a_server_that_is_not_the_central_server_is_named(tmp_path, central_server):
    config = make_config(tmp_path, f'[central]\nurl = "{central_server}/404"\n')
    give_token(config)
    check = status.check_central(config)
    assert check.ok is False and "is not the central server: HTTP 404" in check.summary.english


def test_unset_servers_are_not_faults(tmp_path):
    checks = by_name(status.gather(make_config(tmp_path)))
    assert checks["ils"].ok is None and checks["central"].ok is None
    assert "set [ils] host" in checks["ils"].advice.english


def test_journal_rows_and_backlog_and_damage(tmp_path):
    config = make_config(tmp_path)
    with Journal.open(config.journal_path, config.patron_key_path) as journal:
        for _ in range(3):
            journal.append("session", "ok")
        journal.mark_sent(1)
    check = status.check_journal(config, verify=True)
    assert check.ok and check.summary.english == "3 rows, 2 not yet uploaded"
    with sqlite3.connect(config.journal_path) as db:
        db.execute("DROP TRIGGER entries_no_delete")
    check = status.check_journal(config, verify=True)
    assert check.ok is False and "append-only guard" in check.summary.english
    config.journal_path.write_bytes(b"garbage" * 1000)
    check = status.check_journal(config)
    assert check.ok is False and "unreadable" in check.summary.english


def test_low_disk_space_is_a_fault(tmp_path, monkeypatch):
    monkeypatch.setattr(status, "MIN_FREE_BYTES", 1 << 60)
    check = status.check_disk(make_config(tmp_path))
    assert check.ok is False and "SD card" in check.advice.english


def test_live_device_states_from_the_app_win_over_probing(tmp_path):
    config = make_config(tmp_path, '[devices]\nscanner = "sim:scanner"\n')
    report = status.gather(config, device_states={"scanner": ("lost", "unplugged")})
    check = by_name(report)["device:scanner"]
    assert check.ok is False and "lost unplugged" in check.summary.english


def test_every_summary_translates_into_chinese(tmp_path, sip_server):
    config = make_config(tmp_path, f'[ils]\nhost = "127.0.0.1"\nport = {sip_server}\n')
    translator = Translator()
    for check in status.gather(config).checks:
        for message in filter(None, (check.summary, check.advice)):
            chinese = translator.tr("zh_CN", message.msgid, **message.args)
            assert chinese != message.english, message.msgid


def doctor(*args):
    return subprocess.run([sys.executable, "-m", "kiosk", "doctor", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True)


def test_doctor_prints_a_line_per_check_and_fails_on_a_fault(tmp_path, closed_port):
    make_config(tmp_path, f'[ils]\nhost = "127.0.0.1"\nport = {closed_port}\n')
    result = doctor("--config", tmp_path / "kiosk.toml")
    lines = result.stdout.splitlines()
    marks = {line.split()[1]: line.split()[0] for line in lines}
    assert marks["ils"] == "FAIL" and marks["version"] == "ok" and marks["journal"] == "--"
    assert marks["font"] == "ok" and marks["translations"] == "ok"
    assert any("-> check the network cable" in line for line in lines)
    assert result.returncode == 1


def test_doctor_exit_status_follows_the_faults(tmp_path):
    make_config(tmp_path)
    result = doctor("--config", tmp_path / "kiosk.toml")
    faults = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    # Only the clock can fail here, and only on a machine whose clock is not synchronised.
    assert all(line.split()[1] == "clock" for line in faults)
    assert result.returncode == (1 if faults else 0)


def test_doctor_reports_a_bad_config_as_a_fault(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[idle]\ntimeout_s = 1\n")
    result = doctor("--config", path)
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL  config")
    assert "must be >= 5" in result.stdout and "Traceback" not in result.stderr


def test_the_ils_check_logs_in_and_names_what_is_wrong(tmp_path):
    with Sip2TestServer(IlsData(accounts={"kiosk": "right"})) as server:
        ils = f'[ils]\nhost = "127.0.0.1"\nport = {server.address[1]}\nusername = "kiosk"\n'
        check = status.check_ils(make_config(tmp_path, ils + 'password = "right"\n'))
        assert check.ok and "online Y, checkout Y, checkin Y" in check.summary.english
        assert [m.code for m in server.history] == ["93", "99"]
        check = status.check_ils(make_config(tmp_path, ils + 'password = "wrong"\n'))
        assert check.ok is False and "refused the SIP2 login" in check.summary.english
        assert "username and password" in check.advice.english


def test_the_ils_check_tells_a_server_that_is_not_sip2(tmp_path):
    """An HTTP server on the SIP2 port answers every line with an HTTP error."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_badly():
        conn, _ = listener.accept()
        with conn:
            while conn.recv(1024):
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer_badly, daemon=True).start()
    with listener:
        check = status.check_ils(make_config(
            tmp_path, f'[ils]\nhost = "127.0.0.1"\nport = {listener.getsockname()[1]}\n'))
    assert check.ok is False and "does not answer in SIP2" in check.summary.english
    assert "charset" in check.advice.english


# --- the data partition's real state (issue 12) ---------------------------------------------

from tests import small_partition as part  # noqa: E402

NO_LOOP = part.why_not()
needs_loop = pytest.mark.skipif(NO_LOOP is not None, reason=NO_LOOP or "")


def test_the_reserve_counts_as_space_that_can_be_freed(tmp_path):
    from kiosk.journal import reserve
    config = make_config(tmp_path)
    assert reserve.ensure(config.data_dir, 1 << 20)
    check = status.check_disk(config)
    assert check.ok and "and a 1 MB reserve the kiosk can release" in check.summary.english


def kiosk_with_a_row(tmp_path, mnt):
    """A kiosk keeping its data on the partition `mnt`, with one journal row."""
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{mnt / "data"}"\n')
    config = config_module.load(path)
    with Journal.open(config.journal_path, config.patron_key_path) as journal:
        journal.append("session", "ok")
    return config


@needs_loop
def test_a_read_only_data_partition_is_named_so_not_free_space(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        config = kiosk_with_a_row(tmp_path, mnt)
        part.remount(mnt, "ro")
        disk, journal_check = status.check_disk(config), status.check_journal(config)
    assert disk.ok is False and "the data partition is read-only" in disk.summary.english
    assert "free space" not in disk.advice.english and "dmesg" in disk.advice.english
    assert journal_check.ok is False  # readable, but no row could be written: never "ok"
    assert journal_check.summary.english.startswith("the data partition is read-only")
    assert "remount it read-write" in journal_check.advice.english


@needs_loop
def test_a_full_data_partition_is_named_full(tmp_path):
    with part.small_partition(tmp_path) as mnt:
        config = kiosk_with_a_row(tmp_path, mnt)
        part.fill(mnt, 0)
        disk, journal_check = status.check_disk(config), status.check_journal(config)
    assert disk.ok is False and disk.summary.english.startswith("the data partition is full")
    assert journal_check.ok is False
    assert journal_check.summary.english.startswith("the data partition is full")
    assert "resumes by itself" in journal_check.advice.english


def test_transactions_whose_result_is_not_known_are_listed_for_staff(tmp_path, capsys):
    """An intent left open for minutes: the kiosk stopped mid-way, or the ILS could not tell."""
    from datetime import datetime, timedelta, timezone

    from kiosk.cli import doctor_cmd
    config = make_config(tmp_path)
    with Journal.open(config.journal_path, config.patron_key_path) as journal:
        journal.open_intent("checkout", item="33520000123453", patron="23520001234566",
                            title="红楼梦")
        settled = journal.open_intent("checkin", item="33520000456788", patron=None)
        journal.append("checkin", "ok", item="33520000456788", intent=settled)
    check, rows = status.read_unsettled(config)
    assert (check.ok, rows) == (True, ())  # a minute old: still in flight, perhaps
    later = datetime.now(timezone.utc) + timedelta(minutes=3)
    check, rows = status.read_unsettled(config, now=later)
    assert check.ok is False
    assert check.summary.english == "transactions with no known result: 1"
    assert "mark it checked on the admin screen" in check.advice.english
    (row,) = rows
    assert doctor_cmd.format_unsettled(row).split(" ", 9)[-1].endswith(
        "checkout 33520000123453 红楼梦 (journal row 1)")
    assert "23520001234566" not in repr(rows)  # only the patron's keyed hash is kept
