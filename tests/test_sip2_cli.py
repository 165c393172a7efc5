"""`kiosk sip2 ...` as a technician runs it: a subprocess with a config file, against the
test ILS in this process (and `kiosk sip2 serve` as a subprocess of its own)."""

import json
import socket
import subprocess
import sys
from dataclasses import replace

import pytest

from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.errors import IlsProtocolError
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.test_cli import kiosk

DEMO = ROOT / "kiosk" / "demo" / "ils.toml"
CHEN, HUOZHE, PINGFAN = "23520001234566", "33520000456788", "33520000135792"


@pytest.fixture
def ils():
    with Sip2TestServer(IlsData.load(DEMO)) as server:
        yield server


@pytest.fixture
def config(tmp_path, ils):
    path = tmp_path / "kiosk.toml"
    username, password = ils.login
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path}"\n[ils]\nhost = "127.0.0.1"\n'
                    f'port = {ils.address[1]}\nusername = "{username}"\n'
                    f'password = "{password}"\ninstitution = "CN-430281"\ntimeout_s = 2.0\n',
                    encoding="utf-8")
    return path


def sip2(config, *args):
    result = kiosk("sip2", *args, "--config", config)
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def test_status_patron_and_item_print_the_fields_the_kiosk_uses(config):
    result, status = sip2(config, "status")
    assert result.returncode == 0 and status["type"] == "ScStatus"
    assert status["online"] is True and "11" in status["supported"] and "raw" not in status
    result, patron = sip2(config, "patron", CHEN, "--pin", "1234")
    assert patron["name"] == "陈晓明" and patron["pin_ok"] is True
    assert patron["charged"] == [PINGFAN]
    result, item = sip2(config, "item", PINGFAN, "--raw")
    assert item["title"] == "平凡的世界" and item["circulation"] == "charged"
    assert item["raw"][0].startswith("17") and item["raw"][1].startswith("1804")


def test_checkout_checkin_and_renew_change_the_ils(config, ils):
    result, out = sip2(config, "checkout", CHEN, HUOZHE, "--pin", "1234", "--raw")
    assert result.returncode == 0 and out["ok"] and out["title"] == "活着"
    assert out["due_date"] and "AD****|" in out["raw"][0] and "AD1234" not in result.stdout
    assert ils.data.loans[HUOZHE].patron == CHEN
    result, again = sip2(config, "checkout", CHEN, HUOZHE)
    assert result.returncode == 1 and not again["ok"] and again["screen_message"]
    result, renewed = sip2(config, "renew", CHEN, PINGFAN)
    assert result.returncode == 0 and renewed["renewal"]
    result, back = sip2(config, "checkin", HUOZHE)
    assert result.returncode == 0 and back["ok"] and back["sort_bin"] == "A"
    assert HUOZHE not in ils.data.loans


def test_errors_are_one_clear_line(tmp_path, config, ils):
    result, _ = sip2(config, "item", "bad|code")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "kiosk: field AB may not hold '|' or control characters (got 'bad|code')")
    ils.faults.refuse_logins = True
    result, _ = sip2(config, "status")
    assert result.returncode == 2 and "refused the SIP2 login" in result.stderr
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    closed = tmp_path / "closed.toml"
    closed.write_text(f'[ils]\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8")
    result, _ = sip2(closed, "status")
    assert result.returncode == 2 and "Connection refused" in result.stderr
    result, _ = sip2(tmp_path / "none.toml", "status")
    assert result.returncode == 2 and "no such config file" in result.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    result, _ = sip2(empty, "status")
    assert "no ILS configured: set [ils] host" in result.stderr


def test_serve_runs_the_test_ils_until_stopped():
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "sip2", "serve", "--data", str(DEMO),
                             "--port", "0", "--charset", "gbk", "--pin-check", "always",
                             "--renumber-resends", "--idle-timeout", "60", "--no-blank-dates"],
                            cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = json.loads(proc.stdout.readline())
        host, port = banner["listening"].split(":")
        username, password = banner["login"]
        client = Sip2Client(IlsSettings(host=host, port=int(port), username=username,
                                        password=password, charset="gbk", timeout_s=5))
        assert client.item(PINGFAN).title == "平凡的世界"
        assert client.patron(CHEN).pin_ok is False  # --pin-check always: CQ without a PIN
        with pytest.raises(IlsProtocolError, match="no_due_date"):  # --no-blank-dates
            client.checkout(CHEN, HUOZHE)
        client = Sip2Client(replace(client.settings, no_due_date="transaction_date"))
        assert client.checkout(CHEN, HUOZHE).ok
        client.close()
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "test ILS stopped" in err


def test_serve_names_a_bad_data_file(tmp_path):
    bad = tmp_path / "ils.toml"
    bad.write_text('[[patron]]\nbarcode = "1"\nname = "x"\nblocks = ["rude"]\n', encoding="utf-8")
    result = kiosk("sip2", "serve", "--data", bad, "--port", "0")
    assert result.returncode == 2 and "unknown blocks ['rude']" in result.stderr


def test_raw_prints_the_messages_also_when_the_command_fails(config, ils):
    ils.faults.refuse_logins = True
    result, shown = sip2(config, "status", "--raw")
    assert result.returncode == 2 and "refused the SIP2 login" in result.stderr
    assert shown["type"] == "error" and "refused the SIP2 login" in shown["error"]
    assert shown["raw"][0].startswith("9300CNkiosk|CO****|") and shown["raw"][1].startswith("940")
    assert "demo-sip2" not in result.stdout


def test_a_server_that_wants_a_login_is_named(tmp_path, ils):
    path = tmp_path / "nologin.toml"
    path.write_text(f'[ils]\nhost = "127.0.0.1"\nport = {ils.address[1]}\n', encoding="utf-8")
    result, _ = sip2(path, "status")
    assert result.returncode == 2
    assert "may want a SIP2 login" in result.stderr and "[ils] username" in result.stderr


def test_status_patron_and_item_name_a_charset_that_does_not_match(tmp_path):
    with Sip2TestServer(IlsData.load(DEMO), charset="gbk") as server:
        path = tmp_path / "kiosk.toml"
        username, password = server.login
        path.write_text(f'[ils]\nhost = "127.0.0.1"\nport = {server.address[1]}\n'
                        f'username = "{username}"\npassword = "{password}"\n', encoding="utf-8")
        for args in (["status"], ["patron", CHEN], ["item", PINGFAN]):
            result, shown = sip2(path, *args)
            assert result.returncode == 0
            assert 'looks like GBK: set [ils] charset = "gbk"' in result.stderr
            assert shown["warnings"] == [result.stderr.strip().splitlines()[-1]
                                         .removeprefix("kiosk: warning: ")]
