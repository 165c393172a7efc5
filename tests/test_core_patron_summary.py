"""The patron's summary during a session (loans, holds ready, fines), in the core: it counts a
loan at once, without asking the ILS again, and names the holds ready to collect from SIP2
patron information's hold items (asked apart: SIP2 gives one list per request)."""

from drivers.events import BarcodeRead
from kiosk.core import events as ev
from kiosk.core.circulation_text import patron_summary
from kiosk.core.ils_calls import LookUpHolds, LookUpItem, LookUpPatron
from kiosk.i18n import Translator
from tests.test_core_circulation import (
    CARD,
    RED,
    answer,
    checkout,
    item,
    make,
    of,
    pad,
    patron,
    secure_all,
    tag,
)

SANTI = "33520000789014"
T = Translator()


def summary(s, lang="zh_CN"):
    return patron_summary(s.view.circulation.patron, T.tr, lang)


def taken(s, **fields):
    """The patron identified; the effects of the ILS's answer."""
    effects = s.handle(BarcodeRead("scanner", CARD, "codabar", "patron"), 1)
    (call,) = of(effects, ev.IlsCall)
    assert call.request == LookUpPatron(CARD, None)
    return answer(s, effects, patron(**fields), now=1.5)


def test_a_loan_is_counted_at_once_without_asking_the_ils_again():
    s = make()
    taken(s, charged_count=2)
    assert summary(s, "en")[1] == "Loans: 2 · overdue: 0"
    effects = s.handle(pad(tag("E004015000000001", RED)), 3)
    effects = answer(s, effects, checkout(RED))
    assert summary(s, "en")[1] == "Loans: 2 · overdue: 0"  # not until its alarm is cleared
    effects = secure_all(s, effects)
    assert summary(s, "en")[1] == "Loans: 3 · overdue: 0"
    assert summary(s)[1] == "在借 3 册 · 超期 0 册"
    assert not [c for c in of(effects, ev.IlsCall) if isinstance(c.request, LookUpPatron)]


def test_a_renewal_by_borrowing_again_is_no_new_loan():
    s = make()
    taken(s, charged_count=1, charged=(RED,))
    effects = answer(s, s.handle(pad(tag("E004015000000001", RED)), 3),
                     checkout(RED, renewal=True))
    secure_all(s, effects)
    assert s.view.circulation.patron.charged == 1


def test_holds_ready_are_asked_for_looked_up_and_named():
    s = make()
    effects = taken(s, hold_count=1)
    assert summary(s)[2] == "有\u00a01\u00a0本预约书可取"  # counted before it is named
    (holds,) = [c for c in of(effects, ev.IlsCall) if isinstance(c.request, LookUpHolds)]
    assert holds.request == LookUpHolds(CARD, None)
    effects = s.handle(ev.IlsAnswered(holds.token, patron(hold_count=1, holds_ready=(SANTI,))),
                       2)
    (look,) = of(effects, ev.IlsCall)
    assert look.request == LookUpItem(SANTI)
    s.handle(ev.IlsAnswered(look.token, item(SANTI, title="三体")), 2.5)
    assert summary(s)[2] == "有\u00a01\u00a0本预约书可取：\n《三体》"
    assert summary(s, "en")[2] == "Holds ready to collect (1): 三体"


def test_borrowing_a_hold_collects_it():
    s = make()
    effects = taken(s, hold_count=1, charged_count=0)
    (holds,) = [c for c in of(effects, ev.IlsCall) if isinstance(c.request, LookUpHolds)]
    (look,) = of(s.handle(ev.IlsAnswered(holds.token, patron(holds_ready=(SANTI,))), 2),
                 ev.IlsCall)
    s.handle(ev.IlsAnswered(look.token, item(SANTI, title="三体")), 2.5)
    effects = answer(s, s.handle(pad(tag("E004015000000003", SANTI)), 3), checkout(SANTI))
    secure_all(s, effects)
    view = s.view.circulation.patron
    assert (view.charged, view.holds_ready, view.holds) == (1, 0, ())
    assert not any("预约" in line for line in summary(s))


def test_an_ils_sending_titles_as_hold_items_is_named_by_them():
    s = make()
    effects = taken(s, hold_count=2)
    (holds,) = [c for c in of(effects, ev.IlsCall) if isinstance(c.request, LookUpHolds)]
    effects = s.handle(ev.IlsAnswered(holds.token, patron(holds_ready=("围城", "9787"))), 2)
    for call in of(effects, ev.IlsCall):  # the ILS knows neither as an item
        s.handle(ev.IlsAnswered(call.token, item(call.request.item_id, title="")), 2.5)
    assert summary(s)[2] == "有\u00a02\u00a0本预约书可取：\n《围城》"  # never a bare number


def test_no_holds_counted_asks_nothing_more():
    s = make()
    effects = taken(s)
    assert not [c for c in of(effects, ev.IlsCall) if isinstance(c.request, LookUpHolds)]
    assert len(summary(s)) == 2


def test_a_lost_holds_answer_leaves_the_count():
    s = make()
    effects = taken(s, hold_count=1)
    (holds,) = [c for c in of(effects, ev.IlsCall) if isinstance(c.request, LookUpHolds)]
    s.handle(ev.IlsAnswered(holds.token, None, offline=True), 2)
    assert summary(s)[2] == "有\u00a01\u00a0本预约书可取"
