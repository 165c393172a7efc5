"""Staff see the offline store's state: the status check, the refused list, `kiosk doctor`."""

import subprocess
import sys
from datetime import datetime, timezone

from kiosk import config as config_module
from kiosk import status
from kiosk.i18n import Translator
from kiosk.ils.offline_store import OfflineStore, open_for, store_path
from tests.conftest import ROOT

CARD = "23520001234566"
T0 = datetime(2026, 11, 24, 6, 5, tzinfo=timezone.utc)


def make_config(tmp_path, extra=""):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8")
    return config_module.load(path)


def test_no_store_is_not_a_fault(tmp_path):
    check = status.check_offline(make_config(tmp_path))
    assert (check.ok, check.summary.english) == (None, "offline mode is off")
    check = status.check_offline(make_config(tmp_path, "[circulation]\noffline = true\n"))
    assert (check.ok, check.summary.english) == (True, "nothing kept offline yet")


def test_waiting_transactions_are_counted_and_refusals_are_faults(tmp_path):
    config = make_config(tmp_path)
    with open_for(config) as store:
        store.add("checkout", CARD, "33520000123453", T0)
        store.add("checkin", None, "33520000123461", T0)
        check = status.check_offline(config)
        assert check.ok is True and check.advice is None
        assert check.summary.english == "2 waiting for the library system, 0 refused by it"
        refused = store.add("checkout", CARD, "33520000123479", T0, title="红楼梦")
        store.settle(refused, "refused", "Item on hold for another patron")
    report = status.gather(config)
    check = {c.name: c for c in report.checks}["offline"]
    assert check.ok is False
    assert check.summary.english == "2 waiting for the library system, 1 refused by it"
    assert "admin screen" in check.advice.english
    [tx] = report.offline_refused
    assert (tx.item_id, tx.title, tx.patron_masked, tx.message) == \
        ("33520000123479", "红楼梦", "**********4566", "Item on hold for another patron")
    with OfflineStore(store_path(config), create=False) as store:
        store.acknowledge(tx.id)
        fresh = status.with_offline(report, store)
    assert fresh.offline_refused == () and {c.name: c for c in fresh.checks}["offline"].ok
    assert [c.name for c in fresh.checks] == [c.name for c in report.checks]
    translator = Translator()
    for message in (check.summary, check.advice):
        assert translator.tr("zh_CN", message.msgid, **message.args) != message.english


def test_a_damaged_store_is_a_fault_that_says_keep_the_file(tmp_path):
    config = make_config(tmp_path)
    store_path(config).parent.mkdir(parents=True)
    store_path(config).write_bytes(b"damaged" * 500)
    check, refused = status.read_offline(config)
    assert check.ok is False and refused == ()
    assert "unreadable" in check.summary.english and "keep the file" in check.advice.english


def test_doctor_lists_each_refusal_with_the_patron_masked(tmp_path):
    config = make_config(tmp_path)
    with open_for(config) as store:
        first = store.add("checkout", CARD, "33520000123453", T0, title="红楼梦")
        second = store.add("checkin", None, "33520000123461", T0)
        store.settle(first, "refused", "Patron blocked")
        store.settle(second, "refused")
    result = subprocess.run([sys.executable, "-m", "kiosk", "doctor", "--config",
                             str(tmp_path / "kiosk.toml")], cwd=ROOT, capture_output=True,
                            text=True)
    lines = result.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if line.split()[1] == "offline")
    assert lines[at].startswith("FAIL") and "2 refused" in lines[at]
    local = T0.astimezone().strftime("%Y-%m-%d %H:%M")
    assert lines[at + 1] == (f"      refused: {local} borrow 33520000123453 红楼梦 "
                             "patron **********4566: Patron blocked")
    assert lines[at + 2] == f"      refused: {local} return 33520000123461: no reason given"
    assert CARD not in result.stdout and result.returncode == 1
