"""Plain words and kind endings in the real app under Xvfb, against the real test ILS: the
blocked stop (and its one next step), a refusal in one language with one next step, the
goodbye, a typed card number of the wrong shape, books the last patron left on the pad.

Touches on the keypad, the stop's buttons and the demo tray; the journal and the ILS's own
records are read back. Screenshots go to artifacts/screenshots/words-*.png.
"""

from datetime import date, timedelta

import pytest

from drivers.events import BarcodeRead
from kiosk.demo import hooks
from tests import test_ui_circulation as circulation
from tests.test_ui_circulation import (
    CARD,
    LOANED,
    LOANED_TAG,
    ON_LOAN,
    answer_the_pin,
    settled,
    tray,
    type_on_the_keypad,
)

# The circulation tests' app and ILS (one per module), and their start from the attract screen.
kiosk = circulation.kiosk
at_attract = circulation.at_attract
pytestmark = pytest.mark.ui
BLOCKED = "23520005555552"  # 王强: borrowing blocked, ¥35.50 of fines (kiosk/demo/ils.toml)
HELD = "33520000789014"  # 三体, on hold for 李芳


def switch(k, label):
    """The screen's language button, offering `label`."""
    return next(w for w in k.current().walk() if type(w).__name__ == "LanguageButton"
                and w.text == label)


def to_identify(k):
    k.touch_to_start()
    k.tap(k.widget("home", "borrow"))
    assert k.screen == "identify"


def test_a_blocked_card_meets_the_stop_and_can_still_return_its_overdue_book(at_attract):
    from kiosk.sip2.standin_data import Loan
    k = at_attract
    pad = hooks.sim_pad(k.app.runtime.drivers)
    overdue = k.ils.data.patrons[BLOCKED]
    overdue.blocks = ("charge_denied", "excessive_fines", "too_many_overdue")
    k.ils.data.loans[LOANED] = Loan(BLOCKED, LOANED, date.today() - timedelta(days=3))
    pad.tags[LOANED_TAG].afi = ON_LOAN
    try:
        to_identify(k)
        type_on_the_keypad(k, BLOCKED)
        answer_the_pin(k, "0000")
        k.until(lambda: k.screen == "blocked")
        assert k.shows("这张读者证暂时不能借书") and k.shows("应缴金额：¥35.50")
        assert k.shows("您有未缴的罚款。") and k.shows("您有图书已超期。")
        assert k.shows("请到服务台办理。")
        assert not k.shows("请把要借的图书放到感应区上")  # never invited to borrow
        stop = k.current()
        assert stop.ids.next.text == "还书" and stop.ids.next.opacity == 1
        k.screenshot("words-blocked")
        k.tap(stop.ids.next)  # the one next step: return the overdue book
        assert k.screen == "return"
        k.tap(tray(k, "RFID 《平凡的世界》(3M)"))
        k.until(lambda: settled(k, 1))
        assert LOANED not in k.ils.data.loans
        k.tap(k.widget("return", "buttons").ids.finish)
        k.tap(k.widget("receipt", "done"))
        assert k.screen == "goodbye" and k.shows("谢谢")
        assert not k.shows("请取走您的读者证")  # typed, not shown: nothing to take back
        k.advance(6)
        assert k.screen == "attract"
    finally:
        overdue.blocks = ("charge_denied", "excessive_fines")
        k.ils.data.loans.pop(LOANED, None)


def test_the_stop_in_english_and_finish_asks_for_the_card(at_attract):
    k = at_attract
    to_identify(k)
    k.app.runtime.send(BarcodeRead("scanner", BLOCKED, "codabar", "patron"))  # a card scanned
    answer_the_pin(k, "0000")
    k.until(lambda: k.screen == "blocked")
    k.tap(switch(k, "English"))
    k.until(lambda: k.shows("This card cannot borrow books right now"))
    assert k.shows("Amount owed: ¥35.50") and k.current().ids.next.opacity == 0
    k.screenshot("words-blocked-en")
    k.tap(k.current().ids.finish)
    assert k.screen == "goodbye" and k.shows("Thank you — please take your library card")
    k.screenshot("words-goodbye-en")


def test_a_held_book_says_so_once_in_one_language_and_sends_it_to_staff(at_attract):
    k = at_attract
    to_identify(k)
    k.tap(tray(k, "读者证 Card · 陈晓明 · 密码 PIN 1234"))
    answer_the_pin(k)
    k.until(lambda: k.screen == "borrow")
    k.tap(tray(k, "《三体》"))
    k.until(lambda: settled(k, 1))
    (row,) = k.current().rows
    assert (row["title"], row["detail"]) == ("三体", "此书已被其他读者预约。请交给工作人员。")
    assert not row["renew"]
    k.screenshot("words-refused")
    k.tap(switch(k, "English"))
    (row,) = k.current().rows
    assert row["detail"] == "On hold for another reader. Please hand it to staff."
    assert HELD not in k.ils.data.loans


def test_a_typed_number_of_the_wrong_shape_is_told_and_not_sent(at_attract):
    k = at_attract
    to_identify(k)
    asked = len([m for m in k.ils.history if m.code == "63"])
    type_on_the_keypad(k, "2352000123")
    k.until(lambda: k.shows("读者证号应为 14 位数字，请核对后重新输入。"))
    k.screenshot("words-wrong-number")
    type_on_the_keypad(k, CARD[:-1] + "7")  # one digit wrong: the check digit says so
    k.until(lambda: k.shows("这不是本馆的读者证号，请核对后重新输入。"))
    assert len([m for m in k.ils.history if m.code == "63"]) == asked  # the ILS never asked
    type_on_the_keypad(k, CARD)
    answer_the_pin(k)
    k.until(lambda: k.screen == "borrow")


def test_books_the_last_patron_left_are_told_to_the_next_one_on_return(at_attract):
    k = at_attract
    to_identify(k)
    k.tap(tray(k, "读者证 Card · 陈晓明 · 密码 PIN 1234"))
    answer_the_pin(k)
    k.until(lambda: k.screen == "borrow")
    k.tap(tray(k, "RFID 《红楼梦》"))
    k.until(lambda: settled(k, 1))
    k.tap(k.widget("borrow", "buttons").ids.finish)
    k.tap(k.widget("receipt", "done"))  # 红楼梦 stays on the pad
    k.advance(6)
    assert k.screen == "attract"
    k.touch_to_start()
    k.tap(k.widget("home", "return"))
    k.until(lambda: k.shows("感应区上有上一位读者留下的1件物品"))
    assert k.current().rows == []  # not returned behind the new patron's back
    k.screenshot("words-left-on-pad")
