"""Borrow, return and renew in the core, driven by events; asserting on effects and views.

No screen, no threads, no ILS: the ILS's, the pad's and the offline store's answers are the
events the runtime would send back, built from the SIP2 client's own result classes as the
ILS worker builds them.
"""

from datetime import date, datetime

import pytest

from drivers.events import BarcodeRead, CardRead, Tag, TagsSeen
from kiosk.core import events as ev
from kiosk.core.circulation_text import (
    blocked_stop,
    blocks_sentence,
    line_status,
    money,
    patron_summary,
)
from kiosk.core.circulation_text import line_title as flow_title
from kiosk.core.circulation_view import CirculationSettings
from kiosk.core.events import Screen
from kiosk.core.ils_calls import (
    CheckIn,
    CheckinReply,
    CheckOut,
    CheckoutReply,
    EndPatronSession,
    ItemRecord,
    LookUpItem,
    LookUpPatron,
    PatronRecord,
    RenewLoan,
    RenewReply,
    due_text,
)
from kiosk.core.session import Session
from kiosk.core.session_view import Settings
from kiosk.i18n import Translator
from kiosk.ils.worker import checkin_reply, checkout_reply, item_record, patron_record, renew_reply
from kiosk.receipts import render
from kiosk.sip2.results import CheckinResult, CheckoutResult, ItemInfo, PatronInfo, RenewResult

CARD = "23520001234566"
RED, ALIVE, ENGLISH = "33520000123453", "33520000456788", "33520000246801"
WHEN = datetime(2026, 11, 24, 14, 5)


def make(**circulation) -> Session:
    options = {"ils": True, "pin": "auto", **circulation}
    return Session(Settings(idle_timeout_s=60, countdown_s=15,
                            circulation=CirculationSettings(**options)), now=0.0,
                   wall=lambda: WHEN)


def patron(**fields) -> PatronRecord:
    values = dict(patron_id=CARD, valid=True, pin_ok=True, name="陈晓明", blocks=(),
                  charged=(), overdue=(), holds_ready=(), fines="", currency="CNY",
                  charged_count=0, overdue_count=0, hold_count=0, email="", language="",
                  raw=(), screen_message=(), print_line=())
    return patron_record(PatronInfo(**{**values, **fields}))


def checkout(item_id, ok=True, **fields) -> CheckoutReply:
    values = dict(ok=ok, item_id=item_id, title=TITLES.get(item_id, ""),
                  due="20261215    235900" if ok else "", due_date=date(2026, 12, 15) if ok
                  else None, renewal=False, desensitize=True if ok else None, magnetic=None,
                  fee="", recovered=False, raw=(), screen_message=(), print_line=())
    return checkout_reply(CheckoutResult(**{**values, **fields}))


def checkin(item_id, ok=True, **fields) -> CheckinReply:
    values = dict(ok=ok, item_id=item_id, title=TITLES.get(item_id, ""), resensitize=True,
                  magnetic=None, alert=False, alert_type="", sort_bin="", permanent_location="",
                  recovered=False, raw=(), screen_message=(), print_line=())
    return checkin_reply(CheckinResult(**{**values, **fields}))


def item(item_id, **fields) -> ItemRecord:
    values = dict(item_id=item_id, title=TITLES.get(item_id, ""), circulation_status="03",
                  circulation="available", due="", hold_queue=None, media_type="",
                  permanent_location="", raw=(), screen_message=(), print_line=())
    return item_record(ItemInfo(**{**values, **fields}))


def renewed(item_id, ok=True, **fields) -> RenewReply:
    values = dict(ok=ok, item_id=item_id, title=TITLES.get(item_id, ""),
                  due="20270105    235900" if ok else "", due_date=date(2027, 1, 5) if ok
                  else None, renewal=ok, raw=(), screen_message=(), print_line=())
    return renew_reply(RenewResult(**{**values, **fields}))


TITLES = {RED: "红楼梦", ALIVE: "活着", ENGLISH: "英语听力"}


def tag(uid, item_id, part=1, parts=1, usage="circulating"):
    return Tag(uid, item_id, "CN-430281", usage, part, parts, True, "iso28560-3")


def pad(*tags):
    from drivers.rfid.sets import item_sets
    return TagsSeen("rfid", tuple(tags), item_sets(tags))


def of(effects, kind):
    return [e for e in effects if isinstance(e, kind)]


def rows(effects):
    return [(e.kind, e.outcome) for e in of(effects, ev.JournalAppend)]


def answer(s, effects, result, now=5.0, **kwargs):
    """Answer the one ILS call in `effects`; the effects of the answer."""
    (call,) = of(effects, ev.IlsCall)
    return s.handle(ev.IlsAnswered(call.token, result, **kwargs), now)


def identified(s=None, **patron_fields):
    """A session on the borrow screen with the patron known."""
    s = s or make()
    effects = s.handle(BarcodeRead("scanner", CARD, "codabar", "patron"), 1)
    (call,) = of(effects, ev.IlsCall)
    assert call.request == LookUpPatron(CARD, None)
    answer(s, effects, patron(**patron_fields), now=1.5)
    return s


def secure_all(s, effects, ok=True, secured=False, now=6.0):
    out = []
    for request in of(effects, ev.SetSecurity):
        out += s.handle(ev.SecurityDone(request.token, request.uid, ok, secured), now)
    return out


# --- identifying -------------------------------------------------------------------------

def test_a_card_at_the_attract_screen_identifies_and_opens_borrowing():
    s = identified(name="陈晓明", charged_count=2, overdue_count=1, hold_count=1,
                   fines="5.00")
    view = s.view.circulation
    assert s.view.screen is Screen.BORROW
    assert view.patron.masked == "**********4566" and view.patron.name == "陈晓明"
    t = Translator()
    assert patron_summary(view.patron, t.tr, "en") == [
        "Hello, 陈晓明", "Loans: 2 · overdue: 1", "Holds ready to collect: 1",
        "Fines owed: CNY 5.00"]
    assert patron_summary(view.patron, t.tr, "zh_CN")[0] == "您好，陈晓明"


@pytest.mark.parametrize("event", [
    CardRead("card", CARD), BarcodeRead("scanner", "ECARD:" + CARD, "qr", "ecard"),
    TagsSeen("rfid", (Tag("E004015000000099", CARD, usage="patron_card"),))])
def test_every_kind_of_card_asks_the_ils_for_the_same_patron(event):
    s = make()
    effects = s.handle(event, 1)
    (call,) = of(effects, ev.IlsCall)
    assert (s.view.screen, call.request) == (Screen.IDENTIFY, LookUpPatron(CARD))


def test_a_number_typed_on_the_keypad_identifies_too():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.ACCOUNT), 1)
    assert (s.view.screen, s.view.circulation.step) == (Screen.IDENTIFY, "card")
    assert s.handle(ev.CardNumberTyped("12ab"), 2) == []  # digits only
    effects = s.handle(ev.CardNumberTyped(CARD), 2)
    assert of(effects, ev.IlsCall)[0].request.patron_id == CARD
    assert s.view.circulation.step == "checking"


def test_auto_pin_asks_only_when_the_ils_says_it_matters_and_locks_after_wrong_ones():
    s = make(pin="auto", pin_attempts=2)
    effects = s.handle(BarcodeRead("scanner", CARD, None, "patron"), 1)
    answer(s, effects, patron(pin_ok=False))
    assert (s.view.circulation.step, s.view.circulation.message) == ("pin", None)
    effects = s.handle(ev.PatronPinTyped("1111"), 2)
    assert of(effects, ev.IlsCall)[0].request == LookUpPatron(CARD, "1111")
    answer(s, effects, patron(pin_ok=False))
    assert (s.view.circulation.step, s.view.circulation.message) == ("pin", "wrong_pin")
    effects = s.handle(ev.PatronPinTyped("2222"), 3)
    answer(s, effects, patron(pin_ok=False))
    assert (s.view.circulation.step, s.view.circulation.message) == ("card", "pin_locked")
    assert s.view.screen is Screen.IDENTIFY


def test_pin_yes_asks_before_the_ils_is_asked_and_the_pin_goes_with_every_checkout():
    s = make(pin="yes")
    assert of(s.handle(CardRead("card", CARD), 1), ev.IlsCall) == []
    assert s.view.circulation.step == "pin"
    effects = s.handle(ev.PatronPinTyped("4321"), 2)
    answer(s, effects, patron(pin_ok=True))
    assert s.view.screen is Screen.BORROW
    effects = s.handle(BarcodeRead("scanner", RED, None, "item"), 3)
    assert of(effects, ev.IlsCall)[0].request == CheckOut(CARD, RED, "4321")


def test_pin_no_never_asks_even_when_the_ils_says_the_pin_is_wrong():
    s = make(pin="no")
    effects = s.handle(CardRead("card", CARD), 1)
    answer(s, effects, patron(pin_ok=False))
    assert s.view.screen is Screen.BORROW


@pytest.mark.parametrize("reply, message", [
    ({"result": patron(valid=False)}, "unknown_card"),
    ({"result": None, "error": "bad reply"}, "ils_error"),
    ({"result": None, "error": "connection refused", "offline": True}, "unavailable")])
def test_a_card_the_ils_does_not_take_stays_on_identify_with_why(reply, message):
    s = make()
    effects = s.handle(CardRead("card", CARD), 1)
    (call,) = of(effects, ev.IlsCall)
    s.handle(ev.IlsAnswered(call.token, **reply), 2)
    assert (s.view.screen, s.view.circulation.message) == (Screen.IDENTIFY, message)
    assert s.view.circulation.patron is None


def test_no_ils_configured_says_so_and_asks_nothing():
    s = make(ils=False)
    effects = s.handle(CardRead("card", CARD), 1)
    assert of(effects, ev.IlsCall) == []
    assert s.view.circulation.message == "not_set_up"
    assert s.view.circulation.service == "not_set_up"


# --- borrowing ---------------------------------------------------------------------------

def test_books_on_the_pad_are_borrowed_only_after_their_alarm_is_cleared():
    s = identified()
    cd = (tag("E004015000000004", ENGLISH, 1, 2), tag("E004015000000005", ENGLISH, 2, 2))
    effects = s.handle(pad(tag("E004015000000001", RED), *cd), 3)
    calls = of(effects, ev.IlsCall)
    assert [c.request for c in calls] == [CheckOut(CARD, RED), CheckOut(CARD, ENGLISH)]
    assert [line.status for line in s.view.circulation.lines] == ["busy", "busy"]
    assert s.view.circulation.busy and not s.view.circulation.may_leave
    effects = s.handle(ev.IlsAnswered(calls[1].token, checkout(ENGLISH)), 4)
    security = of(effects, ev.SetSecurity)
    assert [(r.device, r.uid, r.secured) for r in security] == [
        ("rfid", "E004015000000004", False), ("rfid", "E004015000000005", False)]
    assert rows(effects) == []  # the ILS said yes, but the alarm is still on
    assert s.view.circulation.lines[1].status == "busy"
    first = s.handle(ev.SecurityDone(security[0].token, security[0].uid, True, False), 5)
    assert rows(first) == [] and s.view.circulation.lines[1].status == "busy"
    done = s.handle(ev.SecurityDone(security[1].token, security[1].uid, True, False), 5)
    assert rows(done) == [("checkout", "ok")]
    row = of(done, ev.JournalAppend)[0]
    assert (row.item, row.title, row.patron) == (ENGLISH, "英语听力", CARD)
    line = s.view.circulation.lines[1]
    assert (line.status, line.title, line.due) == ("ok", "英语听力", "2026-12-15")
    assert line_status(line, "borrow", Translator().tr, "en") == "Borrowed, due 2026-12-15"


def test_an_alarm_that_stays_armed_sends_the_patron_to_staff():
    s = identified()
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    effects = answer(s, effects, checkout(RED))
    (request,) = of(effects, ev.SetSecurity)
    done = s.handle(ev.SecurityDone(request.token, request.uid, True, True), 5)  # read back armed
    assert rows(done) == [("checkout", "security_failed")]
    line = s.view.circulation.lines[0]
    assert (line.status, line.reason) == ("staff", "security_failed")
    assert line_status(line, "borrow", Translator().tr, "en") == \
        "The alarm could not be changed. Please see staff before leaving."


def test_a_pad_error_is_a_security_failure_too():
    s = identified()
    effects = answer(s, s.handle(pad(tag("E004015000000001", RED)), 3), checkout(RED))
    (request,) = of(effects, ev.SetSecurity)
    done = s.handle(ev.SecurityDone(request.token, request.uid, False, None, "timed out"), 5)
    assert rows(done) == [("checkout", "security_failed")]


def test_a_missing_part_is_refused_until_it_is_on_the_pad():
    s = identified()
    book = tag("E004015000000004", ENGLISH, 1, 2)
    effects = s.handle(pad(book), 3)
    assert rows(effects) == []
    (ask,) = of(effects, ev.IlsCall)  # no checkout: only its title, to show it by name
    assert ask.request == LookUpItem(ENGLISH)
    line = s.view.circulation.lines[0]
    assert (line.status, line.reason, line.action) == ("refused", "incomplete_set", "add_parts")
    assert of(effects, ev.BookRefused) == [ev.BookRefused(ENGLISH, "", "incomplete_set",
                                                          "add_parts")]
    t = Translator()
    assert flow_title(line, t.tr, "zh_CN") == "条码 33520000246801"  # said to be one
    answer(s, effects, item(ENGLISH))
    line = s.view.circulation.lines[0]
    assert flow_title(line, t.tr, "zh_CN") == "英语听力"
    assert line_status(line, "borrow", t.tr, "zh_CN") == \
        "此书缺少附件。请把所有附件一起放到感应区上。"
    assert of(s.handle(pad(book), 3.5), ev.BookRefused) == []  # told once
    effects = s.handle(pad(book, tag("E004015000000005", ENGLISH, 2, 2)), 4)
    assert [c.request.item_id for c in of(effects, ev.IlsCall)] == [ENGLISH]
    assert s.view.circulation.lines[0].status == "busy"


def test_a_missing_part_left_standing_is_journaled_when_the_patron_leaves():
    s = identified()
    s.handle(pad(tag("E004015000000004", ENGLISH, 1, 2)), 3)
    effects = s.handle(ev.FinishFlow(), 4)
    assert rows(effects)[:1] == [("checkout", "incomplete_set")]
    assert s.view.screen is Screen.GOODBYE  # nothing borrowed: no receipt, only thanks


def test_an_unreadable_tag_asks_for_staff_and_nothing_is_sent():
    s = identified()
    effects = s.handle(pad(Tag("E004015000000007", error="CRC mismatch")), 3)
    assert of(effects, ev.IlsCall) == []
    line = s.view.circulation.lines[0]
    assert (line.status, line.reason) == ("staff", "unreadable_tag")


# Each refusal: one sentence in the patron's language and one next step; the ILS's own words
# (AF, here in both languages at once as the test ILS sends them) only when we have none.
AF = "此书已被其他读者预约 On hold for another patron"


@pytest.mark.parametrize("info, usage, reason, zh, en", [
    (item(RED, circulation="waiting_on_hold_shelf", hold_queue=1), "circulating", "on_hold",
     "此书已被其他读者预约。请交给工作人员。",
     "On hold for another reader. Please hand it to staff."),
    (item(RED, title=""), "circulating", "unknown_item",
     "图书馆系统里没有这本书的记录。请交给工作人员。",
     "The library system does not know this item. Please hand it to staff."),
    (item(RED), "not_for_circulation", "not_for_loan",
     "此书仅供馆内阅读。请在馆内阅读。",
     "For use in the library only. Please read it here in the library."),
    (item(RED, circulation="charged"), "circulating", "on_loan",
     "此书登记在其他读者名下。请交给工作人员。",
     "This item is on loan to another reader. Please hand it to staff."),
    (item(RED), "circulating", "ils_refused",  # no reason of ours: the ILS's, in one language
     "此书已被其他读者预约。请交给工作人员。",
     "On hold for another patron. Please hand it to staff.")])
def test_a_refused_book_says_why_once_in_the_patrons_language(info, usage, reason, zh, en):
    s = identified()
    effects = s.handle(pad(tag("E004015000000001", RED, usage=usage)), 3)
    refused = checkout(RED, ok=False, screen_message=(AF,))
    effects = answer(s, effects, refused)
    (why,) = of(effects, ev.IlsCall)
    assert why.request == LookUpItem(RED)
    assert of(effects, ev.SetSecurity) == []
    done = answer(s, effects, info)
    assert rows(done) == [("checkout", reason)]
    line = s.view.circulation.lines[0]
    assert (line.status, line.reason, line.message) == ("refused", reason, AF)
    (told,) = of(done, ev.BookRefused)
    assert (told.item_id, told.reason, told.action) == (RED, reason, line.action)
    t = Translator()
    assert line_status(line, "borrow", t.tr, "zh_CN") == zh
    assert line_status(line, "borrow", t.tr, "en") == en


def test_the_ils_words_are_split_by_language_and_kept_whole_when_in_one():
    from kiosk.core.circulation_text import in_language
    assert in_language(AF, "zh_CN") == "此书已被其他读者预约"
    assert in_language(AF, "en") == "On hold for another patron"
    assert in_language("没有这本书，请交给工作人员 Unknown item: please hand it to staff",
                       "en") == "Unknown item: please hand it to staff"
    assert in_language("此书暂不能外借 Not available (lost)", "zh_CN") == "此书暂不能外借"
    for whole in ("借阅证 ABC123 已过期", "Item cannot be charged", "已达借阅上限"):
        assert in_language(whole, "zh_CN") == in_language(whole, "en") == whole


def test_their_own_loan_placed_to_borrow_offers_renewal_on_its_row():
    s = identified(charged=(RED,))
    effects = answer(s, s.handle(pad(tag("E004015000000001", RED)), 3),
                     checkout(RED, ok=False, screen_message=("您已借了这本书 You already have "
                                                             "this item",)))
    done = answer(s, effects, item(RED, circulation="charged", due="20261215    235900"))
    assert rows(done) == [("checkout", "own_loan")]
    line = s.view.circulation.lines[0]
    assert (line.reason, line.action, line.due) == ("own_loan", "renew", "2026-12-15")
    t = Translator()
    # The row's Renew button is the next step: the words need not say it too.
    assert line_status(line, "borrow", t.tr, "zh_CN") == \
        "这本书已经借在您的名下，应还日期 2026-12-15。"
    assert line_status(line, "return", t.tr, "en") == \
        "This item is already on your card, due 2026-12-15. Press Renew to keep it longer."
    effects = s.handle(ev.Renew(RED), 6)
    (call,) = of(effects, ev.IlsCall)
    assert call.request == RenewLoan(CARD, RED, None)
    done = s.handle(ev.IlsAnswered(call.token, renewed(RED)), 7)
    assert rows(done) == [("renew", "ok")]
    line = s.view.circulation.lines[0]
    assert (line.status, line.reason, line.renewal) == ("ok", None, True)
    assert line_status(line, "borrow", t.tr, "en") == "Renewed, due 2027-01-05"
    s.handle(ev.FinishFlow(), 8)
    assert s.view.screen is Screen.RECEIPT  # a renewal is on the receipt


def test_their_own_loan_with_renewals_blocked_offers_nothing():
    s = identified(charged=(RED,), blocks=("renewal_denied",))
    effects = answer(s, s.handle(pad(tag("E004015000000001", RED)), 3), checkout(RED, ok=False))
    answer(s, effects, item(RED, circulation="charged"))
    line = s.view.circulation.lines[0]
    assert (line.reason, line.action) == ("own_loan", "none")
    assert line_status(line, "borrow", Translator().tr, "en") == \
        "This item is already on your card."
    assert of(s.handle(ev.Renew(RED), 5), ev.IlsCall) == []


# --- the blocked stop ---------------------------------------------------------------------

def test_a_blocked_card_gets_the_full_screen_stop_with_why_what_is_owed_and_where():
    s = identified(blocks=("charge_denied", "excessive_fines"), fines="35.50", currency="CNY",
                   charged=(ALIVE,), charged_count=1)
    assert s.view.screen is Screen.BLOCKED
    patron_view = s.view.circulation.patron
    t = Translator()
    zh = blocked_stop(patron_view, t.tr, "zh_CN")
    assert (zh.heading, zh.reasons, zh.owed, zh.where) == (
        "这张读者证暂时不能借书", ("您有未缴的罚款。",), "应缴金额：¥35.50", "请到服务台办理。")
    en = blocked_stop(patron_view, t.tr, "en")
    assert (en.reasons, en.owed) == (("There are unpaid fines on this card.",),
                                     "Amount owed: ¥35.50")
    assert patron_view.next_step is Screen.ACCOUNT  # has loans: look at them
    assert blocks_sentence(patron_view.blocks, t.tr, "en") == \
        "Please note: borrowing is blocked; you have unpaid fines. Please ask staff."
    assert blocks_sentence((), t.tr, "en") == ""
    # Books placed or scanned are not taken: the stop says why.
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    effects += s.handle(BarcodeRead("scanner", RED, None, "item"), 3.5)
    assert of(effects, ev.IlsCall) == [] and rows(effects) == []
    assert s.view.circulation.lines == () and s.view.screen is Screen.BLOCKED
    effects = s.handle(ev.Navigate(Screen.ACCOUNT), 4)
    assert s.view.screen is Screen.ACCOUNT  # the single next step works
    answer(s, answer(s, effects, patron(charged=(ALIVE,))), item(ALIVE))
    s.handle(ev.Navigate(Screen.HOME), 5)
    s.handle(ev.Navigate(Screen.BORROW), 6)
    assert s.view.screen is Screen.BLOCKED  # borrowing again meets the same stop
    s.handle(ev.EndSession(), 7)
    assert s.view.screen is Screen.GOODBYE and s.view.farewell.take_card


def test_the_stop_is_an_effect_too_and_its_next_step_follows_the_block():
    s = make()
    effects = s.handle(BarcodeRead("scanner", CARD, "codabar", "patron"), 1)
    done = answer(s, effects, patron(blocks=("charge_denied", "too_many_overdue"),
                                     overdue=(RED,), overdue_count=1))
    assert of(done, ev.BorrowingBlocked) == [ev.BorrowingBlocked(
        ("charge_denied", "too_many_overdue"), "", "CNY", Screen.RETURN)]
    assert s.view.circulation.patron.next_step is Screen.RETURN
    s.handle(ev.Navigate(Screen.RETURN), 2)
    assert s.view.screen is Screen.RETURN
    lost = identified(blocks=("charge_denied", "card_lost"), charged=(RED,))
    assert lost.view.circulation.patron.next_step is None  # only the desk, and Finish


def test_a_stop_without_a_block_we_can_name_says_the_ils_words_in_the_patrons_language():
    s = identified(blocks=("charge_denied",),
                   screen_message=("读者证已过期 Patron card expired",))
    t = Translator()
    patron_view = s.view.circulation.patron
    assert blocked_stop(patron_view, t.tr, "zh_CN").reasons == ("读者证已过期",)
    assert blocked_stop(patron_view, t.tr, "en").reasons == ("Patron card expired",)
    assert blocked_stop(patron_view, t.tr, "en").owed == ""
    bare = identified(blocks=("charge_denied",))
    assert blocked_stop(bare.view.circulation.patron, t.tr, "en").reasons == (
        "Borrowing is blocked on this card.",)


def test_money_is_said_with_its_sign():
    assert [money("35.5", "CNY"), money("5.00", ""), money("2", "USD"), money("7.00", "CHF"),
            money("一百", "CNY")] == ["¥35.50", "¥5.00", "$2.00", "7.00 CHF", "¥一百"]


# --- a typed number, the goodbye, books left on the pad -----------------------------------

@pytest.mark.parametrize("typed, message", [
    ("2352000123456", "card_length"), ("235200012345660", "card_length"),
    ("23520001234567", "card_invalid"),  # the check digit
    ("33520000123453", "card_invalid"),  # a book's number
    ("12", "card_length"), ("2352000123456x", "card_invalid")])
def test_a_typed_number_of_the_wrong_shape_is_told_and_never_sent(typed, message):
    s = make(card_prefixes=("2",), card_length=14, card_luhn=True)
    s.handle(ev.Start(), 1)
    s.handle(ev.Navigate(Screen.BORROW), 2)
    effects = s.handle(ev.CardNumberTyped(typed), 3)
    assert of(effects, ev.IlsCall) == []
    view = s.view.circulation
    assert (s.view.screen, view.step, view.message, view.card_length) == (
        Screen.IDENTIFY, "card", message, 14)
    (call,) = of(s.handle(ev.CardNumberTyped(CARD), 4), ev.IlsCall)  # the right one goes
    assert call.request == LookUpPatron(CARD, None)


def test_goodbye_thanks_asks_for_a_physical_card_then_rests():
    s = identified()
    s.handle(ev.SetLanguage("en"), 2)
    effects = s.handle(ev.EndSession(), 3)
    assert of(effects, ev.SessionClosed) == [ev.SessionClosed("ok", take_card=True)]
    assert (s.view.screen, s.view.language) == (Screen.GOODBYE, "en")  # thanked in theirs
    s.handle(ev.Tick(), 5)
    assert s.view.screen is Screen.GOODBYE
    s.handle(ev.Tick(), 8.5)
    assert (s.view.screen, s.view.language, s.view.farewell) == (Screen.ATTRACT, "zh_CN", None)


def test_an_ecard_or_returns_alone_are_thanked_without_asking_for_a_card():
    s = make()
    effects = s.handle(BarcodeRead("scanner", "ECARD:" + CARD, "qr", "ecard"), 1)
    answer(s, effects, patron())
    effects = s.handle(ev.EndSession(), 3)
    assert of(effects, ev.SessionClosed) == [ev.SessionClosed("ok", take_card=False)]
    s.handle(ev.Tick(), 9)
    s.handle(ev.Start(), 10)
    s.handle(ev.Navigate(Screen.RETURN), 11)
    effects = answer(s, s.handle(pad(tag("E004015000000001", RED)), 12), checkin(RED))
    secure_all(s, effects, secured=True)
    s.handle(ev.FinishFlow(), 13)
    assert of(s.handle(ev.EndSession(), 14), ev.SessionClosed) == [
        ev.SessionClosed("ok", take_card=False)]
    assert s.view.screen is Screen.GOODBYE
    # Nobody identified and nothing done: straight back to the attract screen.
    s.handle(ev.Start(), 15)  # the next patron touches the goodbye screen: a new session
    assert s.view.screen is Screen.HOME and s.view.farewell is None
    assert of(s.handle(ev.EndSession(), 16), ev.SessionClosed) == []
    assert s.view.screen is Screen.ATTRACT


def test_a_card_during_the_goodbye_starts_the_next_patron():
    s = identified()
    s.handle(ev.EndSession(), 3)
    effects = s.handle(BarcodeRead("scanner", CARD, "codabar", "patron"), 4)
    assert s.view.screen is Screen.IDENTIFY and of(effects, ev.IlsCall)


def test_books_left_by_the_last_patron_are_told_when_the_next_one_returns():
    s = identified()
    book = tag("E004015000000001", RED)
    secure_all(s, answer(s, s.handle(pad(book), 3), checkout(RED)))
    s.handle(ev.FinishFlow(), 4)
    s.handle(ev.EndSession(), 5)  # the book stays on the pad
    s.handle(ev.Start(), 6)
    effects = s.handle(ev.Navigate(Screen.RETURN), 7)
    assert of(effects, ev.LeftOnPad) == [ev.LeftOnPad(1)]
    assert s.view.circulation.left_on_pad == 1 and s.view.circulation.lines == ()
    assert of(s.handle(pad(book), 8), ev.LeftOnPad) == []  # told once
    s.handle(pad(), 9)  # lifted
    assert s.view.circulation.left_on_pad == 0
    effects = s.handle(pad(book), 10)  # placed again: now this patron's return
    assert [c.request for c in of(effects, ev.IlsCall)] == [CheckIn(RED)]


def test_a_scanned_book_lying_on_the_pad_has_its_tag_cleared_and_one_elsewhere_has_none():
    s = identified()
    s.handle(ev.Navigate(Screen.HOME), 2)
    s.handle(pad(tag("E004015000000001", RED)), 2.5)  # on the pad, seen while at home
    s.handle(ev.Navigate(Screen.BORROW), 2.7)  # the pad's books are taken at once
    effects = s.handle(BarcodeRead("scanner", RED, None, "item"), 3)
    assert of(effects, ev.IlsCall) == []  # already on the screen
    effects = s.handle(BarcodeRead("scanner", ALIVE, None, "item"), 3)
    done = answer(s, effects, checkout(ALIVE))
    assert of(done, ev.SetSecurity) == [] and rows(done) == [("checkout", "ok")]


def test_the_same_book_twice_is_one_line_and_one_checkout():
    s = identified()
    book = tag("E004015000000001", RED)
    assert len(of(s.handle(pad(book), 3), ev.IlsCall)) == 1
    assert of(s.handle(pad(book, tag("E004015000000002", ALIVE)), 4),
              ev.IlsCall)[0].request.item_id == ALIVE
    assert of(s.handle(BarcodeRead("scanner", RED, None, "item"), 5), ev.IlsCall) == []
    assert len(s.view.circulation.lines) == 2


def test_another_card_while_borrowing_is_asked_to_wait():
    s = identified()
    s.handle(CardRead("card", "23520009876541"), 3)
    assert s.view.notice.message == "finish_first"
    assert s.view.circulation.patron.masked.endswith("4566")


# --- finishing, receipts, leaving ---------------------------------------------------------

def borrowed_one(s, now=3.0):
    effects = answer(s, s.handle(pad(tag("E004015000000001", RED)), now), checkout(RED))
    return secure_all(s, effects)


def test_finish_shows_the_receipt_prints_when_always_and_ends_the_session():
    s = identified(make(printer=True, receipt="always"))
    borrowed_one(s)
    assert not s.view.circulation.may_leave
    assert s.handle(ev.Navigate(Screen.HOME), 7) == [] and s.view.screen is Screen.BORROW
    effects = s.handle(ev.FinishFlow(), 8)
    receipt = s.view.circulation.receipt
    assert s.view.screen is Screen.RECEIPT and receipt.kind == "borrow"
    shown = render(receipt.receipt, s.view.language)
    (printed,) = of(effects, ev.PrintReceipt)
    assert (printed.receipt, printed.language) == (receipt.receipt, "zh_CN")
    assert "红楼梦" in shown.text and "2026-12-15" in shown.text
    assert "红楼梦" in shown.qr and CARD not in shown.qr and CARD not in shown.text
    assert rows(effects) == [("receipt", "shown")]
    assert receipt.printing == "printing"
    assert rows(s.handle(ev.ReceiptPrinted(True), 9)) == [("receipt", "printed")]
    assert s.view.circulation.receipt.printing == "printed"
    effects = s.handle(ev.EndSession(), 10)
    (bye,) = of(effects, ev.IlsCall)
    assert bye.request == EndPatronSession(CARD)
    assert rows(effects) == [("session", "ok")]
    assert s.view.screen is Screen.GOODBYE and s.view.circulation.patron is None
    assert of(effects, ev.SessionClosed) == [ev.SessionClosed("ok", take_card=True)]


def test_the_receipt_is_printed_in_the_language_showing_when_print_is_pressed():
    s = identified(make(printer=True, receipt="ask"))
    borrowed_one(s)
    s.handle(ev.FinishFlow(), 8)
    s.handle(ev.SetLanguage("en"), 9)
    assert s.view.screen is Screen.RECEIPT and s.view.language == "en"
    (printed,) = of(s.handle(ev.PrintRequested(), 10), ev.PrintReceipt)
    assert printed.language == "en"


def test_receipt_ask_offers_printing_and_never_does_not():
    s = identified(make(printer=True, receipt="ask"))
    borrowed_one(s)
    assert of(s.handle(ev.FinishFlow(), 8), ev.PrintReceipt) == []
    assert s.view.circulation.receipt.printing == "offered"
    assert len(of(s.handle(ev.PrintRequested(), 9), ev.PrintReceipt)) == 1
    assert rows(s.handle(ev.ReceiptPrinted(False, "out of paper"), 10)) == [
        ("receipt", "print_failed")]
    assert s.view.circulation.receipt.printing == "failed"
    s = identified(make(printer=True, receipt="never"))
    borrowed_one(s)
    s.handle(ev.FinishFlow(), 8)
    assert s.view.circulation.receipt.printing == "none"
    assert of(s.handle(ev.PrintRequested(), 9), ev.PrintReceipt) == []


def test_finish_waits_while_a_book_is_in_progress():
    s = identified()
    s.handle(pad(tag("E004015000000001", RED)), 3)
    assert s.handle(ev.FinishFlow(), 4) == [] and s.view.screen is Screen.BORROW


def test_walking_away_mid_borrow_ends_the_session_with_the_ils_and_forgets_the_patron():
    s = identified()
    borrowed_one(s, now=3)
    s.handle(ev.Tick(), 63)
    assert s.view.countdown is not None
    effects = s.handle(ev.Tick(), 79)
    assert [type(c.request) for c in of(effects, ev.IlsCall)] == [EndPatronSession]
    assert rows(effects) == [("session", "timeout")]
    assert s.view.screen is Screen.GOODBYE  # "please take your card", should it lie there
    assert s.view.circulation.patron is None and s.view.circulation.lines == ()


def test_an_answer_after_the_patron_left_is_journaled_and_the_alarm_left_alone():
    s = identified()
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    s.handle(ev.EndSession(), 4)
    late = answer(s, effects, checkout(RED))
    assert of(late, ev.SetSecurity) == []
    (row,) = of(late, ev.JournalAppend)
    assert (row.kind, row.outcome, row.detail) == ("checkout", "ok", {"after_session": True})
    assert s.view.circulation.lines == ()


def test_worker_answers_do_not_keep_an_idle_session_alive():
    s = identified()
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    answer(s, effects, checkout(RED), now=70)
    s.handle(ev.Tick(), 79)
    assert s.view.screen is Screen.GOODBYE


# --- returning ----------------------------------------------------------------------------

def test_returning_needs_no_card_and_arms_the_alarm_after_the_ils_said_yes():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.RETURN), 1)
    assert s.view.screen is Screen.RETURN
    effects = s.handle(pad(tag("E004015000000001", RED), tag("E004015000000002", ALIVE)), 2)
    calls = of(effects, ev.IlsCall)
    assert [c.request for c in calls] == [CheckIn(RED), CheckIn(ALIVE)]
    first = s.handle(ev.IlsAnswered(calls[0].token, checkin(RED, sort_bin="A3")), 3)
    assert [(r.uid, r.secured) for r in of(first, ev.SetSecurity)] == [("E004015000000001", True)]
    done = secure_all(s, first, secured=True)
    assert rows(done) == [("checkin", "ok")]
    second = s.handle(ev.IlsAnswered(calls[1].token, checkin(ALIVE, alert=True, alert_type="01")),
                      4)
    secure_all(s, second, secured=True)
    red, alive = s.view.circulation.lines
    t = Translator()
    assert line_status(red, "return", t.tr, "en") == "Returned · Put it in bin A3"
    assert line_status(alive, "return", t.tr, "en") == \
        "Returned · Please hand this item to staff."
    effects = s.handle(ev.FinishFlow(), 5)
    assert s.view.circulation.receipt.kind == "return"
    assert CARD not in render(s.view.circulation.receipt.receipt, "en").text
    assert of(s.handle(ev.EndSession(), 6), ev.IlsCall) == []  # no patron: no end session


def test_a_card_while_returning_is_not_needed():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.RETURN), 1)
    assert of(s.handle(CardRead("card", CARD), 2), ev.IlsCall) == []
    assert s.view.notice.message == "no_card_needed"


def test_a_return_the_ils_refuses_leaves_the_alarm_alone():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.RETURN), 1)
    effects = answer(s, s.handle(pad(tag("E004015000000001", RED)), 2), checkin(RED, ok=False))
    assert of(effects, ev.SetSecurity) == []
    done = answer(s, effects, item(RED, title=""))
    assert rows(done) == [("checkin", "unknown_item")]


# --- my account and renewals --------------------------------------------------------------

def test_my_account_asks_for_each_loan_by_item():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.ACCOUNT), 1)
    effects = s.handle(CardRead("card", CARD), 2)
    effects = answer(s, effects, patron(charged=(RED, ALIVE), overdue=(ALIVE,), charged_count=2))
    assert s.view.screen is Screen.ACCOUNT
    assert [c.request for c in of(effects, ev.IlsCall)] == [LookUpItem(RED), LookUpItem(ALIVE)]
    assert [(line.item_id, line.status, line.overdue) for line in s.view.circulation.lines] == [
        (RED, "busy", False), (ALIVE, "busy", True)]
    # Back on the account from home later: fetched afresh, loans may have changed.
    s.handle(ev.Navigate(Screen.HOME), 3)
    assert s.view.screen is Screen.ACCOUNT  # still loading: it stays
    for call in of(effects, ev.IlsCall):
        s.handle(ev.IlsAnswered(call.token, item(call.request.item_id)), 4)
    s.handle(ev.Navigate(Screen.HOME), 5)
    effects = s.handle(ev.Navigate(Screen.ACCOUNT), 6)
    (call,) = of(effects, ev.IlsCall)
    assert (type(call.request), call.request.patron_id) == (LookUpPatron, CARD)
    assert s.view.circulation.loading


def account(s):
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.ACCOUNT), 1)
    effects = s.handle(CardRead("card", CARD), 2)
    effects = answer(s, effects, patron(charged=(RED, ALIVE), overdue=(ALIVE,)))
    for call in of(effects, ev.IlsCall):
        due = "20261201    235900" if call.request.item_id == RED else "20261101    235900"
        s.handle(ev.IlsAnswered(call.token, item(call.request.item_id, circulation="charged",
                                                   due=due)), 3)
    return s


def test_loans_show_titles_and_due_dates_then_renew_one_and_all():
    s = account(make())
    red, alive = s.view.circulation.lines
    t = Translator()
    assert (red.title, red.due, red.status) == ("红楼梦", "2026-12-01", "listed")
    assert line_status(alive, "account", t.tr, "en") == "Overdue since 2026-11-01"
    effects = s.handle(ev.Renew(RED), 4)
    (call,) = of(effects, ev.IlsCall)
    assert call.request == RenewLoan(CARD, RED, None)
    done = answer(s, effects, renewed(RED))
    assert rows(done) == [("renew", "ok")]
    assert line_status(s.view.circulation.lines[0], "account", t.tr, "en") == \
        "Renewed, now due 2027-01-05"
    effects = s.handle(ev.Renew(), 5)  # all: only the one not yet renewed
    (call,) = of(effects, ev.IlsCall)
    assert call.request.item_id == ALIVE
    done = answer(s, effects, renewed(ALIVE, ok=False, screen_message=("Too many renewals",)))
    assert rows(done) == [("renew", "ils_refused")]
    alive = s.view.circulation.lines[1]
    assert (alive.status, alive.due, alive.message) == ("refused", "2026-11-01",
                                                        "Too many renewals")
    s.handle(ev.FinishFlow(), 6)
    receipt = s.view.circulation.receipt
    assert receipt.kind == "renew" and "2027-01-05" in render(receipt.receipt, "en").text


def test_renewal_blocked_patron_is_not_sent_to_the_ils():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.ACCOUNT), 1)
    effects = s.handle(CardRead("card", CARD), 2)
    effects = answer(s, effects, patron(charged=(RED,), blocks=("renewal_denied",)))
    answer(s, effects, item(RED))
    assert s.view.circulation.patron.can_renew is False
    effects = s.handle(ev.Renew(), 3)
    assert of(effects, ev.IlsCall) == [] and rows(effects) == [("renew", "blocked")]


# --- the ILS away -------------------------------------------------------------------------

def test_without_offline_mode_the_patron_is_told_the_service_is_unavailable():
    s = identified()
    s.handle(ev.IlsState(False, "connection refused"), 2)
    assert s.view.circulation.service == "unavailable"
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    done = answer(s, effects, None, offline=True, error="connection refused")
    assert rows(done) == [("checkout", "ils_unavailable")] and of(done, ev.SetSecurity) == []
    assert of(done, ev.OfflineRecord) == []
    s.handle(ev.IlsState(True), 4)
    assert s.view.circulation.service == "ok"


def test_offline_checkouts_are_recorded_secured_and_shown_as_to_be_confirmed():
    s = identified(make(offline=True, offline_max_items=2, offline_max_total=100))
    s.handle(ev.IlsState(False, "timed out"), 2)
    assert s.view.circulation.service == "offline"
    books = [tag(f"E00401500000000{n}", code) for n, code in ((1, RED), (2, ALIVE),
                                                              (3, "33520000789014"))]
    effects = s.handle(pad(*books), 3)
    calls = of(effects, ev.IlsCall)
    offline = []
    for call in calls:
        offline += s.handle(ev.IlsAnswered(call.token, None, "timed out", offline=True), 4)
    assert of(offline, ev.CountOffline) == [ev.CountOffline(CARD)]  # asked once
    effects = s.handle(ev.OfflineCounts(CARD, 1, 10), 5)  # one already waiting from before
    records = of(effects, ev.OfflineRecord)
    assert [(r.kind, r.patron_id, r.item_id) for r in records] == [("checkout", CARD, RED)]
    assert rows(effects) == [("checkout", "offline_limit"), ("checkout", "offline_limit")]
    effects = s.handle(ev.OfflineRecorded(records[0].token, True), 6)
    (request,) = of(effects, ev.SetSecurity)
    assert (request.uid, request.secured) == ("E004015000000001", False)
    done = s.handle(ev.SecurityDone(request.token, request.uid, True, False), 7)
    (row,) = of(done, ev.JournalAppend)
    assert (row.kind, row.outcome, row.detail) == ("checkout", "offline", {"offline": True})
    lines = s.view.circulation.lines
    assert [(line.status, line.reason) for line in lines] == [
        ("offline", None), ("refused", "offline_limit"), ("refused", "offline_limit")]
    assert line_status(lines[0], "borrow", Translator().tr, "en").startswith(
        "Accepted, to be confirmed")


def test_offline_returns_count_against_the_total():
    s = make(offline=True, offline_max_total=1)
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.RETURN), 1)
    effects = s.handle(pad(tag("E004015000000001", RED), tag("E004015000000002", ALIVE)), 2)
    asked = []
    for call in of(effects, ev.IlsCall):
        asked += s.handle(ev.IlsAnswered(call.token, None, "refused", offline=True), 3)
    assert of(asked, ev.CountOffline) == [ev.CountOffline(None)]
    effects = s.handle(ev.OfflineCounts(None, 0, 0), 4)
    (record,) = of(effects, ev.OfflineRecord)
    assert (record.kind, record.patron_id) == ("checkin", None)
    assert rows(effects) == [("checkin", "offline_limit")]
    effects = s.handle(ev.OfflineRecorded(record.token, True), 5)
    assert of(effects, ev.SetSecurity)[0].secured is True


def test_an_offline_store_that_fails_is_never_shown_as_accepted():
    s = identified(make(offline=True))
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    answer(s, effects, None, offline=True, error="timed out")
    effects = s.handle(ev.OfflineCounts(CARD, 0, 0), 4)
    (record,) = of(effects, ev.OfflineRecord)
    done = s.handle(ev.OfflineRecorded(record.token, False, "disk full"), 5)
    assert of(done, ev.SetSecurity) == [] and rows(done) == [("checkout", "offline_failed")]
    assert s.view.circulation.lines[0].status == "staff"


def test_a_card_while_the_ils_is_away_is_taken_when_offline_mode_allows():
    s = make(offline=True)
    effects = s.handle(CardRead("card", CARD), 1)
    answer(s, effects, None, offline=True, error="timed out")
    assert s.view.screen is Screen.BORROW
    patron_view = s.view.circulation.patron
    assert patron_view.checked is False and patron_view.masked.endswith("4566")
    assert "cannot be checked" in patron_summary(patron_view, Translator().tr, "en")[1]
    # No End Session for a patron the ILS never saw.
    assert of(s.handle(ev.EndSession(), 2), ev.IlsCall) == []


def test_offline_replays_are_journaled():
    s = make()
    effects = s.handle(ev.OfflineReplayed("checkout", RED, CARD, "refused", "红楼梦",
                                          "Patron 23520001234566 blocked"), 1)
    (row,) = of(effects, ev.JournalAppend)
    assert (row.kind, row.outcome, row.item, row.patron) == ("offline_replay", "refused", RED,
                                                            CARD)
    assert row.detail == {"kind": "checkout", "message": "Patron **********4566 blocked"}


# --- small parts --------------------------------------------------------------------------

def test_due_dates_read_as_dates():
    assert due_text(date(2026, 12, 15), "whatever") == "2026-12-15"
    assert due_text(None, "20261215    235900") == "2026-12-15"
    assert due_text(None, "2026-12-15T23:59") == "2026-12-15"
    assert due_text(None, "next Friday") == "next Friday"
    assert due_text(None, "") == ""


def test_back_to_home_is_allowed_while_nothing_is_done():
    s = identified()
    s.handle(ev.Navigate(Screen.HOME), 2)
    assert s.view.screen is Screen.HOME and s.view.circulation.patron is not None
    s.handle(ev.Navigate(Screen.BORROW), 3)
    assert s.view.screen is Screen.BORROW  # the patron is still known


def test_books_the_last_patron_left_on_the_pad_do_not_count_until_placed_again():
    s = identified()
    book = tag("E004015000000001", RED)
    secure_all(s, answer(s, s.handle(pad(book), 3), checkout(RED)))
    s.handle(ev.FinishFlow(), 4)
    s.handle(ev.EndSession(), 5)  # the book still lies on the pad
    s = identified(s)
    assert s.view.circulation.lines == ()
    s.handle(pad(), 6)  # lifted...
    effects = s.handle(pad(book), 7)  # ...and placed again: now it is this patron's doing
    assert [c.request.item_id for c in of(effects, ev.IlsCall)] == [RED]


def test_every_reason_has_words_and_the_journal_strings_stay_as_they_were():
    """Outcomes and reasons are journaled and uploaded: their values are a wire format."""
    from kiosk.core.circulation_text import REASONS
    from kiosk.core.outcomes import Outcome, Reason, Step

    assert set(REASONS) == set(Reason)
    assert {str(o) for o in (*Outcome, *Reason)} == {
        "ok", "offline", "blocked", "on_hold", "not_for_loan", "unknown_item", "on_loan",
        "incomplete_set", "unreadable_tag", "security_failed", "ils_refused", "ils_error",
        "ils_unavailable", "offline_limit", "offline_failed", "offline_not_lendable", "unknown",
        "own_loan"}
    assert [str(s) for s in Step] == ["card", "pin", "checking"]
