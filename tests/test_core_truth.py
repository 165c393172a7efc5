"""What the core tells patrons when things go wrong: intents before every ILS transaction, a
result nobody can know, a PIN the ILS did not speak about, and the kiosk out of service."""

from drivers.events import BarcodeRead, CardRead
from kiosk.core import events as ev
from kiosk.core.circulation_text import line_status
from kiosk.core.events import Screen
from kiosk.core.ils_calls import LookUpPatron
from kiosk.core.outcomes import Reason
from kiosk.core.pin import hash_pin
from kiosk.core.session import Session
from kiosk.core.session_view import Settings
from kiosk.i18n import Translator
from tests.staff_pin import submit_pin
from tests.test_core_circulation import (
    CARD,
    RED,
    account,
    answer,
    checkin,
    checkout,
    identified,
    make,
    of,
    pad,
    patron,
    rows,
    secure_all,
    tag,
)


def test_every_checkout_journals_its_intent_before_the_call_and_its_outcome_names_it():
    s = identified()
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    (intent,) = of(effects, ev.JournalIntent)
    (call,) = of(effects, ev.IlsCall)
    assert effects.index(intent) < effects.index(call)  # on disk before the ILS hears of it
    assert (intent.operation, intent.item, intent.patron) == ("checkout", RED, CARD)
    assert call.intent == intent.key
    done = secure_all(s, answer(s, effects, checkout(RED)))
    (row,) = of(done, ev.JournalAppend)
    assert (row.kind, row.outcome, row.intent, row.settles) == ("checkout", "ok", intent.key,
                                                                True)


def test_returns_and_renewals_journal_intents_too_and_a_renewal_keeps_the_old_due_date():
    s = make()
    s.handle(ev.Start(), 1)
    s.handle(ev.Navigate(Screen.RETURN), 1)
    effects = s.handle(BarcodeRead("scanner", RED, None, "item"), 2)
    (intent,) = of(effects, ev.JournalIntent)
    assert (intent.operation, intent.item, intent.patron) == ("checkin", RED, None)
    assert of(effects, ev.IlsCall)[0].intent == intent.key
    done = answer(s, effects, checkin(RED))
    assert of(done, ev.JournalAppend)[0].intent == intent.key

    s = account(make())
    effects = s.handle(ev.Renew(RED), 4)
    (intent,) = of(effects, ev.JournalIntent)
    assert (intent.operation, intent.detail) == ("renew", {"due_before": "2026-12-01"})


def test_nothing_asked_of_the_ils_has_no_intent():
    s = make(pin="auto")
    effects = s.handle(BarcodeRead("scanner", CARD, None, "patron"), 1)
    assert of(effects, ev.JournalIntent) == []  # a question changes nothing in the ILS


def test_a_result_nobody_can_know_says_so_leaves_the_intent_open_and_the_alarm_alone():
    s = identified()
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    (intent,) = of(effects, ev.JournalIntent)
    done = answer(s, effects, None, error="reply lost; the ILS cannot be asked", unknown=True)
    assert of(done, ev.SetSecurity) == []
    (row,) = of(done, ev.JournalAppend)
    assert (row.kind, row.outcome, row.intent, row.settles) == ("checkout", "unknown",
                                                                intent.key, False)
    (line,) = s.view.circulation.lines
    assert (line.status, line.reason) == ("staff", "unknown")
    t = Translator()
    assert line_status(line, "borrow", t.tr, "zh_CN") == "结果未知。离开前请找工作人员。"
    assert line_status(line, "borrow", t.tr, "en") == \
        "Result unknown. Please see staff before leaving."
    assert not line.transacted  # not counted as borrowed, nor as refused


def test_an_unknown_renewal_is_unknown_too():
    s = account(make())
    effects = s.handle(ev.Renew(RED), 4)
    done = answer(s, effects, None, error="lost", unknown=True)
    assert rows(done) == [("renew", "unknown")]
    assert s.view.circulation.lines[0].reason == "unknown"


def test_auto_pin_asks_when_the_ils_says_nothing_about_it():
    """Some ILSs report CQ only when the request carried a PIN: silence is not consent."""
    s = make(pin="auto")
    effects = s.handle(CardRead("card", CARD), 1)
    answer(s, effects, patron(pin_ok=None))
    assert (s.view.screen, s.view.circulation.step) == (Screen.IDENTIFY, "pin")
    effects = s.handle(ev.PatronPinTyped("1234"), 2)
    assert of(effects, ev.IlsCall)[0].request == LookUpPatron(CARD, "1234")
    answer(s, effects, patron(pin_ok=None))  # still silent: the PIN goes with every checkout
    assert s.view.screen is Screen.BORROW
    effects = s.handle(BarcodeRead("scanner", RED, None, "item"), 3)
    assert of(effects, ev.IlsCall)[0].request.pin == "1234"


def test_auto_pin_takes_the_patron_without_one_only_when_the_ils_said_so():
    s = make(pin="auto")
    answer(s, s.handle(CardRead("card", CARD), 1), patron(pin_ok=True))
    assert s.view.screen is Screen.BORROW


def test_pin_no_never_asks_even_when_the_ils_is_silent():
    s = make(pin="no")
    answer(s, s.handle(CardRead("card", CARD), 1), patron(pin_ok=None))
    assert s.view.screen is Screen.BORROW


def test_a_journal_that_fails_ends_the_session_and_takes_no_new_patron():
    s = identified()
    s.handle(pad(tag("E004015000000001", RED)), 3)
    effects = s.handle(ev.JournalFailed("full", "disk full"), 4)
    assert s.view.screen is Screen.OUT_OF_SERVICE
    assert s.view.out_of_service.cause == "full"
    assert s.view.circulation.lines == () and s.view.circulation.patron is None
    assert ("session", "out_of_service") in rows(effects)
    for event in (ev.Start(), BarcodeRead("scanner", CARD, None, "patron"),
                  CardRead("card", CARD), ev.Navigate(Screen.BORROW)):
        assert s.handle(event, 5) == []
        assert s.view.screen is Screen.OUT_OF_SERVICE
    s.handle(ev.Tick(), 500)  # no idle timer runs here
    assert s.view.screen is Screen.OUT_OF_SERVICE


def test_staff_still_reach_the_admin_screen_while_out_of_service_and_return_to_it():
    s = Session(Settings(pin_hash=hash_pin("2468", iterations=100_000)), now=0.0)
    s.handle(ev.JournalFailed("read_only", "read-only"), 1)
    s.handle(ev.AdminGesture(), 2)
    assert s.view.screen is Screen.ADMIN_PIN
    submit_pin(s, "2468", 3)
    assert s.view.screen is Screen.ADMIN
    s.handle(ev.JournalFailed("read_only", "again"), 4)
    assert s.view.screen is Screen.ADMIN  # staff see why; the screen does not jump away
    s.handle(ev.EndSession(), 5)
    assert s.view.screen is Screen.OUT_OF_SERVICE


def test_service_comes_back_to_the_attract_screen():
    s = make()
    s.handle(ev.JournalFailed("full", "disk full"), 1)
    s.handle(ev.JournalRestored(60.0), 61)
    assert (s.view.screen, s.view.out_of_service) == (Screen.ATTRACT, None)
    s.handle(ev.Start(), 62)
    assert s.view.screen is Screen.HOME


def offline_answers(s, effects, now=4.0):
    out = []
    for call in of(effects, ev.IlsCall):
        out += s.handle(ev.IlsAnswered(call.token, None, "timed out", offline=True), now)
    return out


def test_offline_the_kiosk_lends_only_what_it_can_tell_is_lendable():
    from kiosk.core.offline_rules import parse_rules
    s = identified(make(offline=True,
                        offline_refuse=parse_rules("REF,33520000456700-33520000456799")))
    s.handle(ev.IlsState(False, "timed out"), 2)
    reference = tag("E004015000000007", "REF0001", usage="circulating")
    in_range = tag("E004015000000002", "33520000456788")
    library_use = tag("E004015000000003", "33520000789014", usage="not_for_circulation")
    lendable = tag("E004015000000001", RED)
    effects = offline_answers(s, s.handle(pad(reference, in_range, library_use, lendable), 3))
    assert rows(effects) == [("checkout", "offline_not_lendable")] * 3
    assert of(effects, ev.SetSecurity) == []  # their alarms stay armed
    effects = s.handle(ev.OfflineCounts(CARD, 0, 0), 5)
    assert [r.item_id for r in of(effects, ev.OfflineRecord)] == [RED]
    reasons = {line.item_id: line.reason for line in s.view.circulation.lines}
    assert reasons == {"REF0001": "offline_not_lendable", "33520000456788": "offline_not_lendable",
                       "33520000789014": "offline_not_lendable", RED: None}


def test_what_the_ils_refuses_for_the_item_is_remembered_and_the_store_can_refuse_it_offline():
    from tests.test_core_circulation import item
    s = identified(make(offline=True))
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    why = answer(s, effects, checkout(RED, ok=False))
    effects = answer(s, why, item(RED, hold_queue=1))  # on hold for another reader
    assert of(effects, ev.RememberRefusal) == [ev.RememberRefusal(RED, "on_hold")]

    s = identified(make(offline=True))
    s.handle(ev.IlsState(False, "timed out"), 2)
    effects = offline_answers(s, s.handle(pad(tag("E004015000000001", RED)), 3))
    (record,) = of(s.handle(ev.OfflineCounts(CARD, 0, 0), 5), ev.OfflineRecord)
    done = s.handle(ev.OfflineRecorded(record.token, False, "refused on 2026-12-01",
                                       reason=Reason.OFFLINE_NOT_LENDABLE), 6)
    assert rows(done) == [("checkout", "offline_not_lendable")]
    assert of(done, ev.SetSecurity) == []


def test_a_blocked_patron_is_not_a_refusal_of_the_item():
    s = identified(make(offline=True), blocks=("charge_denied",))
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    assert of(effects, ev.RememberRefusal) == []


def test_offline_rules_are_prefixes_and_ranges_of_one_length():
    import pytest as _pytest

    from kiosk.core.offline_rules import lendable_offline, parse_rules
    rules = parse_rules("REF, 30000000-30009999,R-")
    assert not lendable_offline("REF123", "circulating", rules)
    assert not lendable_offline("30000042", None, rules)
    assert lendable_offline("300000420", None, rules)  # another length: not in the range
    assert lendable_offline("30010000", None, rules)
    assert not lendable_offline("R-7", None, rules)
    assert not lendable_offline("33520000123453", "not_for_circulation", ())
    for bad in ("2000-1000", "100-2000"):
        with _pytest.raises(ValueError):
            parse_rules(bad)


def test_a_bad_offline_rule_stops_start_up_with_where_it_is(tmp_path):
    import pytest as _pytest

    from kiosk import config
    from kiosk.errors import ConfigError
    path = tmp_path / "kiosk.toml"
    path.write_text('[circulation]\noffline_refuse = "REF,9-1"\n', encoding="utf-8")
    with _pytest.raises(ConfigError, match=r"offline_refuse.*\[circulation\].*backwards"):
        config.load(path)
