"""The patron's summary through the runtime, against the real test ILS on 127.0.0.1 (the demo's
library) and the simulated pad: 李芳's hold is named from SIP2 patron information's hold items
and item information, and collecting it counts as a loan without another patron request."""

import pytest

from kiosk.core.circulation_text import patron_summary
from kiosk.core.events import Screen
from kiosk.demo import hooks
from kiosk.i18n import Translator
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.runtime_kiosk import identified, ils_section, pump_until, started

HOLDER = "23520009876541"  # 李芳, whose hold 三体 waits on the hold shelf
SANTI, SANTI_TAG = "33520000789014", "E004015000000003"
DEMO = IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")
T = Translator()


@pytest.fixture
def ils():
    with Sip2TestServer(IlsData.load(ROOT / "kiosk" / "demo" / "ils.toml")) as server:
        yield server


@pytest.fixture
def runtime(tmp_path, ils):
    runtime = started(tmp_path, ils_section(ils))
    yield runtime
    runtime.close()


def summary(runtime, lang="zh_CN"):
    return patron_summary(runtime.view.circulation.patron, T.tr, lang)


def test_a_hold_ready_is_named_and_collecting_it_is_counted_at_once(runtime, ils):
    hooks.sim_scanner(runtime.drivers).scan(HOLDER)
    pump_until(runtime, lambda: runtime.view.circulation.step == "checking")
    identified(runtime, HOLDER, DEMO)
    pump_until(runtime, lambda: runtime.view.screen is Screen.BORROW)
    pump_until(runtime, lambda: "有\u00a01\u00a0本预约书可取：\n《三体》" in summary(runtime))
    assert "Holds ready to collect (1): 三体" in summary(runtime, "en")
    asked = [m for m in ils.history if m.code == "63"]
    assert [m.get("summary").find("Y") for m in asked][-1] == 0  # the hold items list (AS)
    before = runtime.view.circulation.patron.charged
    hooks.sim_pad(runtime.drivers).place(SANTI_TAG)
    pump_until(runtime, lambda: [line.status for line in runtime.view.circulation.lines]
               == ["ok"])
    assert ils.data.loans[SANTI].patron == HOLDER
    assert runtime.view.circulation.patron.charged == before + 1
    assert summary(runtime)[1].startswith(f"在借 {before + 1} 册")
    assert not any("预约" in line for line in summary(runtime))
    assert len([m for m in ils.history if m.code == "63"]) == len(asked)  # none asked again
