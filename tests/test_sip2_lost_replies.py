"""Lost and unreadable replies to checkouts, checkins and renewals: one path for every way a
reply can fail after the request may have reached the ILS. The faults are real: a TCP proxy
(tests/ils_proxy.py) between the client and the test ILS breaks the reply after the ILS has
acted, or the test ILS itself loses it. Each test checks the ILS's own state and history:
the truth is told, and nothing is ever lent twice."""

import pytest

from kiosk.sip2 import outcome
from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.errors import IlsOutcomeUnknown, IlsProtocolError, IlsUnavailable
from kiosk.sip2.fields import CIRCULATION
from kiosk.sip2.standin_data import IlsData
from kiosk.sip2.standin_ils import IMPLEMENTED
from kiosk.sip2.standin_server import Sip2TestServer
from tests.conftest import ROOT
from tests.ils_proxy import IlsProxy, ProxyFault

DEMO = ROOT / "kiosk" / "demo" / "ils.toml"
CHEN, LI = "23520001234566", "23520009876541"
HUOZHE, PINGFAN, DILI = "33520000456788", "33520000135792", "33520000975316"
UNKNOWN_ITEM = "33520000000000"
FAULTS = list(ProxyFault)


@pytest.fixture
def ils():
    with Sip2TestServer(IlsData.load(DEMO)) as server:
        yield server


@pytest.fixture
def proxy(ils):
    with IlsProxy(ils.address) as p:
        yield p


def settings(address, ils, **changes) -> IlsSettings:
    username, password = ils.login
    base = dict(host=address[0], port=address[1], username=username, password=password,
                institution="CN-430281", location="lobby", timeout_s=0.5, retries=1)
    return IlsSettings(**{**base, **changes})


@pytest.fixture
def client(proxy, ils):
    c = Sip2Client(settings(proxy.address, ils))
    c.connect()
    yield c
    c.close()


def count(ils, code):
    return [m.code for m in ils.history].count(code)


# --- through the proxy: the ILS acted, the reply never arrives readable ----------------------

@pytest.mark.parametrize("fault", FAULTS)
def test_a_checkout_whose_reply_is_broken_is_recovered(fault, ils, proxy, client):
    proxy.fault_after("11", fault)
    out = client.checkout(CHEN, HUOZHE)
    assert out.ok and out.recovered and out.title == "活着" and out.due_date is not None
    assert ils.data.loans[HUOZHE].patron == CHEN and count(ils, "11") == 1
    assert proxy.injected >= 1


@pytest.mark.parametrize("fault", FAULTS)
def test_a_checkin_whose_reply_is_broken_is_recovered(fault, ils, proxy, client):
    proxy.fault_after("09", fault)
    back = client.checkin(PINGFAN)
    assert back.ok and back.recovered and back.title == "平凡的世界" and not back.alert
    assert PINGFAN not in ils.data.loans and count(ils, "09") == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_a_renewal_whose_reply_is_broken_is_recovered_from_the_due_date(fault, ils, proxy,
                                                                        client):
    due_before = ils.data.loans[PINGFAN].due
    proxy.fault_after("29", fault)
    renewed = client.renew(CHEN, PINGFAN)
    assert renewed.ok and renewed.recovered and renewed.due_date > due_before
    assert ils.data.loans[PINGFAN].renewals == 1 and count(ils, "29") == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_when_the_ils_cannot_be_asked_the_outcome_is_unknown(fault, ils, proxy, client):
    proxy.refuse_connections()  # the open connection carries on; a new one is refused
    proxy.fault_after("11", fault)
    with pytest.raises(IlsOutcomeUnknown, match="could not be asked"):
        client.checkout(CHEN, HUOZHE)
    assert ils.data.loans[HUOZHE].patron == CHEN and count(ils, "11") == 1


def test_an_unknown_renewal_or_checkin_is_never_unavailable(ils, proxy):
    for operation, code in ((lambda c: c.checkin(PINGFAN), "09"),
                            (lambda c: c.renew(LI, DILI), "29")):
        proxy.accept_connections()
        c = Sip2Client(settings(proxy.address, ils))
        c.connect()
        proxy.refuse_connections()
        proxy.fault_after(code, ProxyFault.DROP)
        with pytest.raises(IlsOutcomeUnknown):
            operation(c)
        c.close()
    assert PINGFAN not in ils.data.loans and ils.data.loans[DILI].renewals == 1


def test_a_broken_reply_to_a_checkout_that_was_refused_tells_the_refusal(ils, proxy, client):
    """The ILS refused (already on loan to someone else); the reply is lost; asking shows it
    is not the patron's, so the checkout is sent again and the refusal comes back."""
    proxy.fault_after("11", ProxyFault.GARBAGE)
    out = client.checkout(CHEN, DILI)
    assert not out.ok and not out.recovered and "another patron" in out.screen_message[0]
    assert ils.data.loans[DILI].patron == LI and count(ils, "11") == 2


def test_a_broken_reply_twice_after_not_done_is_unavailable_and_not_lent(ils, proxy, client):
    ils.faults.next("ignore", code="11", times=2)  # the ILS never acts: certainly not done
    with pytest.raises(IlsUnavailable, match="not done"):
        client.checkout(CHEN, HUOZHE)
    assert HUOZHE not in ils.data.loans


# --- the checkin's follow-up: only statuses that mean "back" count ---------------------------

def item_info(code, due=""):
    from kiosk.sip2.results import ItemInfo
    return ItemInfo(item_id=HUOZHE, title="活着", circulation_status=code,
                    circulation=CIRCULATION.get(code, "other"), due=due, hold_queue=None,
                    media_type="001", permanent_location="")


@pytest.mark.parametrize("code", sorted(CIRCULATION) + ["99", "  "])
def test_which_item_status_after_a_lost_checkin_means_what(code):
    expected = {"03": "done", "08": "done", "09": "done", "10": "done",
                "04": "not_done", "05": "not_done"}.get(code, "unknown")
    found = outcome.checkin_by_item(item_info(code))
    assert found.outcome == expected and code in found.why


def test_a_recovered_checkin_of_an_item_in_transit_or_on_hold_asks_for_staff():
    alerts = {code: outcome.recovered_checkin(HUOZHE, item_info(code), ()).alert_type
              for code in ("03", "08", "09", "10")}
    assert alerts == {"03": "", "08": "01", "09": "", "10": "04"}


@pytest.mark.parametrize("before, after, expected", [
    ("20261201    235959", "20261231    235959", "done"),
    ("20261201    235959", "20261201    235959", "unknown"),   # same day: cannot tell
    ("20261201    235959", "", "unknown"),
    ("", "20261231    235959", "unknown")])
def test_a_lost_renewal_is_judged_by_the_due_date(before, after, expected):
    found = outcome.renewal_by_item(item_info("04", before), item_info("04", after))
    assert found.outcome == expected


def test_a_lost_checkout_is_judged_by_the_patrons_complete_loan_list():
    from kiosk.sip2.results import PatronInfo

    def patron(charged, count, valid=True):
        return PatronInfo(patron_id=CHEN, valid=valid, pin_ok=None, name="", blocks=(),
                          charged=charged, overdue=(), holds_ready=(), fines="", currency="",
                          charged_count=count, overdue_count=0, hold_count=0, email="",
                          language="000")
    judged = [outcome.checkout_by_patron(p, HUOZHE).outcome for p in (
        patron((HUOZHE,), 1), patron((f"{HUOZHE} 活着",), 1), patron((PINGFAN,), 1),
        patron((PINGFAN,), 2), patron((), 0, valid=False))]
    assert judged == ["done", "done", "not_done", "unknown", "unknown"]


def test_a_lost_checkin_of_an_item_the_ils_does_not_know_is_unknown(ils, proxy, client):
    """A real server answers 01 ("other") for an item it does not know: not proof of return."""
    ils.faults.next("lose_reply", code="09")
    with pytest.raises(IlsOutcomeUnknown, match="other"):
        client.checkin(UNKNOWN_ITEM)
    assert count(ils, "09") == 1


def test_a_lost_checkin_of_a_book_with_a_hold_is_back_on_the_hold_shelf(ils, proxy, client):
    ils.data.items[PINGFAN].on_hold_for = LI
    ils.faults.next("lose_reply", code="09")
    back = client.checkin(PINGFAN)
    assert back.ok and back.recovered and back.alert and back.alert_type == "01"
    assert count(ils, "09") == 1


def test_a_lost_checkin_that_left_the_book_charged_is_sent_once_more(ils, proxy, client):
    ils.faults.next("ignore", code="09")
    back = client.checkin(PINGFAN)
    assert back.ok and not back.recovered and count(ils, "09") == 2
    assert PINGFAN not in ils.data.loans


def test_a_lost_checkin_of_a_missing_item_is_unknown(ils, proxy, client):
    ils.data.items[HUOZHE].status = "missing"
    ils.faults.next("lose_reply", code="09")
    with pytest.raises(IlsOutcomeUnknown, match="missing"):
        client.checkin(HUOZHE)


def test_without_17_a_lost_checkin_or_renewal_is_unknown():
    with Sip2TestServer(IlsData.load(DEMO), supported=IMPLEMENTED - {"17"}) as ils:
        c = Sip2Client(settings(ils.address, ils))
        ils.faults.next("lose_reply", code="09")
        with pytest.raises(IlsOutcomeUnknown):
            c.checkin(PINGFAN)
        ils.faults.next("lose_reply", code="29")
        with pytest.raises(IlsOutcomeUnknown):
            c.renew(LI, DILI)
        c.close()
        assert count(ils, "09") == 1 and count(ils, "29") == 1


def test_a_lost_renewal_that_did_not_move_the_due_date_is_unknown_not_repeated(ils, proxy,
                                                                               client):
    ils.faults.next("ignore", code="29")
    with pytest.raises(IlsOutcomeUnknown, match="due date"):
        client.renew(CHEN, PINGFAN)
    assert count(ils, "29") == 1 and ils.data.loans[PINGFAN].renewals == 0


# --- 96 and 97 --------------------------------------------------------------------------------

def test_a_96_means_not_done_and_names_the_due_date_setting():
    with Sip2TestServer(IlsData.load(DEMO), blank_dates_ok=False) as ils:
        c = Sip2Client(settings(ils.address, ils))
        with pytest.raises(IlsProtocolError, match=r"\[ils\] no_due_date"):
            c.checkout(CHEN, HUOZHE)
        c.close()
        assert HUOZHE not in ils.data.loans


def test_a_resent_reply_with_another_sequence_number_is_taken():
    """That server answers our 97 with its last reply renumbered AY0: taken at once, not
    dropped as stale (which cost the patron two more timeouts and a reconnect)."""
    with Sip2TestServer(IlsData.load(DEMO), renumber_resends=True) as ils:
        c = Sip2Client(settings(ils.address, ils, retries=2))
        c.connect()  # 93 (AY0), 99 (AY1): the 17 below goes out as AY2
        ils.faults.next("drop_reply", code="17")
        assert c.item(HUOZHE).title == "活着"
        ils.faults.next("drop_reply", code="11")
        out = c.checkout(CHEN, HUOZHE)
        assert out.ok and not out.recovered
        c.close()
        assert [m.code for m in ils.history] == ["93", "99", "17", "97", "11", "97"]


def test_a_renumbered_reply_about_another_item_is_not_taken():
    with Sip2TestServer(IlsData.load(DEMO), renumber_resends=True) as ils:
        c = Sip2Client(settings(ils.address, ils))
        assert c.item(HUOZHE).title == "活着"
        ils.faults.next("ignore", code="17")  # the 97 brings back the reply about HUOZHE
        assert c.item(PINGFAN).title == "平凡的世界"
        c.close()
