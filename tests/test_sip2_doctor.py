"""The ILS check of `kiosk doctor` and the admin screen: what the ILS's SC status says and
how its text decodes are warnings that name the setting, never a failure while the kiosk
works; `kiosk doctor` prints them as WARN and exits 0."""

import subprocess
import sys

from kiosk import config as config_module
from kiosk import status
from kiosk.i18n import Translator
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_ils import ScPolicy
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT

DEMO = ROOT / "kiosk" / "demo" / "ils.toml"


def ils_config(tmp_path, server, charset="utf-8"):
    username, password = server.login
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n'
                    f'[ils]\nhost = "127.0.0.1"\nport = {server.address[1]}\n'
                    f'username = "{username}"\npassword = "{password}"\n'
                    f'charset = "{charset}"\n', encoding="utf-8")
    return path


def test_sc_status_flags_are_a_warning_that_names_the_servers_setting(tmp_path):
    with Sip2TestServer(IlsData.load(DEMO), policy=ScPolicy(checkout=False)) as server:
        check = status.check_ils(config_module.load(ils_config(tmp_path, server)))
    assert check.ok is True and check.warning is True
    assert "checkout N" in check.summary.english
    assert "policy" in check.advice.english and 'checkout="true"' in check.advice.english


def test_a_server_that_allows_everything_is_ok_without_warning(tmp_path):
    with Sip2TestServer(IlsData.load(DEMO)) as server:
        check = status.check_ils(config_module.load(ils_config(tmp_path, server)))
    assert check.ok is True and check.warning is False and check.advice is None


def test_mojibake_in_the_sc_status_names_the_charset(tmp_path):
    with Sip2TestServer(IlsData.load(DEMO), charset="gbk") as server:
        check = status.check_ils(config_module.load(ils_config(tmp_path, server)))
    assert check.ok is True and check.warning is True
    assert 'set [ils] charset = "gbk"' in check.advice.english
    assert "GBK" in check.advice.english


def test_the_warnings_translate_into_chinese(tmp_path):
    translator = Translator()
    with Sip2TestServer(IlsData.load(DEMO), charset="gbk",
                        policy=ScPolicy(checkin=False)) as server:
        check = status.check_ils(config_module.load(ils_config(tmp_path, server)))
    for message in (check.summary, check.advice):
        assert translator.tr("zh_CN", message.msgid, **message.args) != message.english


def test_doctor_prints_warn_and_exits_0_for_a_warning(tmp_path):
    with Sip2TestServer(IlsData.load(DEMO), policy=ScPolicy(checkout=False)) as server:
        result = subprocess.run(
            [sys.executable, "-m", "kiosk", "doctor", "--config",
             str(ils_config(tmp_path, server))], cwd=ROOT, capture_output=True, text=True,
            check=False)
    lines = result.stdout.splitlines()
    marks = {line.split()[1]: line.split()[0] for line in lines}
    assert marks["ils"] == "WARN", result.stdout
    faults = [line for line in lines if line.startswith("FAIL")]
    # Only the clock can fail here, and only on a machine whose clock is not synchronised.
    assert all(line.split()[1] == "clock" for line in faults)
    assert result.returncode == (1 if faults else 0)
