"""The session state machine and idle timer, without a screen."""

import pytest

from drivers.events import BarcodeRead, CardRead, DeviceFault, DeviceStatus, ItemSet, Tag, TagsSeen
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.pin import hash_pin, verify_pin
from kiosk.core.session import NOTICE_SECONDS, Session
from kiosk.core.session_view import Settings
from tests.staff_pin import submit_pin

PIN = "2468"
PIN_HASH = hash_pin(PIN, iterations=100_000)


def make(**overrides) -> Session:
    settings = Settings(idle_timeout_s=60, countdown_s=15, pin_hash=PIN_HASH, **overrides)
    return Session(settings, now=0.0)


def journal_rows(effects):
    return [(e.kind, e.outcome) for e in effects if isinstance(e, ev.JournalAppend)]


def test_starts_on_attract_in_default_language():
    s = make(language="zh_CN")
    assert s.view.screen is Screen.ATTRACT
    assert s.view.language == "zh_CN"


def test_touch_to_start_then_every_flow_and_back():
    s = make()
    s.handle(ev.Start(), 1)
    assert s.view.screen is Screen.HOME
    # Borrowing and the account ask for the card first; returning needs none.
    for flow, shown in ((Screen.BORROW, Screen.IDENTIFY), (Screen.RETURN, Screen.RETURN),
                        (Screen.EBOOKS, Screen.EBOOKS), (Screen.ACCOUNT, Screen.IDENTIFY)):
        s.handle(ev.Navigate(flow), 2)
        assert s.view.screen is shown
        s.handle(ev.Navigate(Screen.HOME), 3)
        assert s.view.screen is Screen.HOME


def test_navigation_outside_the_map_is_ignored():
    s = make()
    s.handle(ev.Navigate(Screen.ADMIN), 1)
    assert s.view.screen is Screen.ATTRACT
    s.handle(ev.Start(), 1)
    s.handle(ev.Navigate(Screen.ADMIN), 2)
    assert s.view.screen is Screen.HOME


def test_finish_journals_the_session_and_forgets_the_language():
    s = make(language="zh_CN")
    s.handle(ev.Start(), 10)
    s.handle(ev.SetLanguage("en"), 11)
    assert s.view.language == "en"
    effects = s.handle(ev.EndSession(), 42.5)
    assert journal_rows(effects) == [("session", "ok")]
    assert effects[0].detail == {"seconds": 32.5}
    assert s.view.screen is Screen.ATTRACT and s.view.language == "zh_CN"


def test_unknown_language_is_refused():
    s = make()
    s.handle(ev.SetLanguage("fr"), 1)
    assert s.view.language == "zh_CN"


def test_idle_countdown_then_timeout():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Tick(), 59.9)
    assert s.view.countdown is None
    s.handle(ev.Tick(), 60)
    assert s.view.countdown == 15
    s.handle(ev.Tick(), 70.5)
    assert s.view.countdown == 5
    effects = s.handle(ev.Tick(), 75)
    assert journal_rows(effects) == [("session", "timeout")]
    assert s.view.screen is Screen.ATTRACT and s.view.countdown is None


def test_a_touch_during_the_countdown_keeps_the_session():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Navigate(Screen.BORROW), 1)
    s.handle(ev.Tick(), 65)
    assert s.view.countdown is not None
    s.handle(ev.Touch(), 66)
    assert s.view.countdown is None
    assert s.handle(ev.Tick(), 80) == []
    assert s.view.screen is Screen.IDENTIFY


def test_attract_screen_never_times_out():
    s = make()
    assert s.handle(ev.Tick(), 10_000) == []
    assert s.view.screen is Screen.ATTRACT


def test_a_book_scan_wakes_the_kiosk_and_is_shown_masked_then_fades():
    s = make()
    s.handle(BarcodeRead("scanner", "33520000123453", "codabar", "item"), 5)
    assert s.view.screen is Screen.HOME
    assert s.view.notice.message == "choose_service"
    assert s.view.notice.args["code"] == "**********3453"
    s.handle(ev.Tick(), 5 + NOTICE_SECONDS)
    assert s.view.notice is None


@pytest.mark.parametrize("kind, message", [("isbn", "scan_isbn"), ("unknown", "scan_unknown"),
                                           ("item", "choose_service")])
def test_each_kind_of_scan_gets_its_own_words(kind, message):
    s = make()
    s.handle(BarcodeRead("scanner", "9787020002207", None, kind), 5)
    assert (s.view.screen, s.view.notice.message) == (Screen.HOME, message)


@pytest.mark.parametrize("event", [BarcodeRead("scanner", "23520001234567", "codabar", "patron"),
                                   BarcodeRead("scanner", "ECARD:23520001234567", "qr", "ecard"),
                                   CardRead("card", "04A1B2C3D4")])
def test_a_card_wakes_the_kiosk_to_identify_the_patron(event):
    s = make()
    s.handle(event, 5)
    # No ILS in these settings: the screen says borrowing is not set up here.
    assert s.view.screen is Screen.IDENTIFY
    assert s.view.circulation.message == "not_set_up"


def test_books_on_the_pad_wake_the_kiosk_and_a_missing_part_is_named():
    s = make()
    book, disc = Tag("E0040150000000A4", "33520000246801", part=1, parts=2), \
        Tag("E0040150000000A5", "33520000246801", part=2, parts=2)
    s.handle(TagsSeen("rfid", (book,), (ItemSet("33520000246801", 2, (1,)),)), 5)
    assert s.view.screen is Screen.HOME
    assert (s.view.notice.message, s.view.notice.args) == ("tags_incomplete", {"count": "1"})
    s.handle(TagsSeen("rfid", (book, disc), (ItemSet("33520000246801", 2, (1, 2)),)), 6)
    assert (s.view.notice.message, s.view.notice.args) == ("tags_seen", {"count": "1"})


def test_a_tag_that_cannot_be_read_sends_the_patron_to_staff():
    s = make()
    damaged = Tag("E004015000000007", error="CRC mismatch")
    book = Tag("E004015000000001", "33520000123453")
    s.handle(TagsSeen("rfid", (book, damaged), (ItemSet("33520000123453", 1, (1,)),)), 5)
    assert (s.view.notice.message, s.view.notice.args) == ("tags_unreadable", {"count": "1"})


def test_an_emptied_pad_is_not_a_patron_and_does_not_wake_the_kiosk():
    s = make()
    s.handle(TagsSeen("rfid", ()), 5)
    assert s.view.screen is Screen.ATTRACT


def test_device_faults_are_counted_and_offline_devices_listed():
    s = make()
    s.handle(DeviceStatus("rfid", "connected", "3m810"), 1)
    s.handle(DeviceStatus("scanner", "lost", "No such file /dev/input/event3"), 2)
    s.handle(DeviceFault("rfid", "bad checksum", 3), 4)
    assert s.view.devices["rfid"].faults == 3
    assert s.view.devices["rfid"].since == 1
    assert s.view.offline_devices == ("scanner",)
    s.handle(DeviceStatus("scanner", "lost", "cannot open: Permission denied"), 9)
    assert s.view.devices["scanner"].since == 2  # still offline since the first loss


def test_device_states_survive_the_end_of_a_session():
    s = make()
    s.handle(DeviceStatus("rfid", "lost", "unplugged"), 3)
    s.handle(ev.Start(), 4)
    s.handle(ev.EndSession(), 5)
    assert s.view.devices["rfid"].state == "lost"
    assert s.view.devices["rfid"].since == 3


def test_device_news_is_not_patron_activity():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(DeviceStatus("rfid", "connected"), 70)
    s.handle(ev.Tick(), 76)
    assert s.view.screen is Screen.ATTRACT


def test_admin_with_the_right_pin():
    s = make()
    s.handle(ev.Start(), 0)
    effects = s.handle(ev.AdminGesture(), 1)
    assert journal_rows(effects) == [("session", "admin")]
    assert s.view.screen is Screen.ADMIN_PIN and s.view.pin_message is None
    effects = submit_pin(s, PIN, 2)
    assert journal_rows(effects) == [("admin", "ok")]
    assert any(isinstance(e, ev.GatherStatus) for e in effects)
    assert s.view.screen is Screen.ADMIN
    effects = s.handle(ev.RestartRequested(), 3)
    assert any(isinstance(e, ev.RestartApp) for e in effects)


def test_wrong_pins_lock_the_admin_screen_for_a_while():
    s = make(max_pin_attempts=3, lockout_s=300)
    s.handle(ev.AdminGesture(), 0)
    for i in range(2):
        effects = submit_pin(s, "0000", i)
        assert journal_rows(effects) == [("admin", "pin_wrong")]
        assert s.view.pin_message == "wrong"
    effects = submit_pin(s, "0000", 3)
    assert journal_rows(effects) == [("admin", "pin_locked")]
    submit_pin(s, PIN, 4)  # right, but locked
    assert s.view.screen is Screen.ADMIN_PIN and s.view.pin_message == "locked"
    submit_pin(s, PIN, 304)
    assert s.view.screen is Screen.ADMIN


def test_admin_times_out_like_a_patron():
    s = make()
    s.handle(ev.AdminGesture(), 0)
    submit_pin(s, PIN, 1)
    s.handle(ev.Tick(), 1 + 75)
    assert s.view.screen is Screen.ATTRACT


def test_no_pin_configured_means_no_admin():
    s = Session(Settings(pin_hash=""), now=0)
    s.handle(ev.AdminGesture(), 0)
    assert s.view.pin_message == "no_pin"
    submit_pin(s, "", 1)
    assert s.view.screen is Screen.ADMIN_PIN


def test_restart_only_from_admin():
    s = make()
    s.handle(ev.Start(), 0)
    assert s.handle(ev.RestartRequested(), 1) == []


def test_pin_hash_round_trip_and_malformed_hashes():
    stored = hash_pin("1234", iterations=100_000)
    assert verify_pin("1234", stored)
    assert not verify_pin("1235", stored)
    for bad in ("", "md5$1$aa$bb", "pbkdf2_sha256$x$zz$00", "pbkdf2_sha256$1$00"):
        assert not verify_pin("1234", bad)


# --- e-books ------------------------------------------------------------------------------

def in_ebooks():
    s = make()
    s.handle(ev.Start(), 1)
    s.handle(ev.Navigate(Screen.EBOOKS), 2)
    return s


def rows(effects):
    return [(e.kind, e.outcome, e.item) for e in effects if isinstance(e, ev.JournalAppend)]


def test_browsing_shelves_and_opening_a_title_journals_one_view():
    s = in_ebooks()
    assert (s.view.screen, s.view.ebooks.shelf) == (Screen.EBOOKS, "new")
    s.handle(ev.ShowShelf("history"), 3)
    effects = s.handle(ev.OpenTitle("000123"), 4)
    assert rows(effects) == [("ebook_view", "ok", "000123")]
    assert (s.view.screen, s.view.ebooks.title_id) == (Screen.EBOOK_TITLE, "000123")
    assert rows(s.handle(ev.QrShown("000123"), 4)) == [("ebook_qr", "ok", "000123")]
    assert rows(s.handle(ev.QrShown("000999"), 4)) == []  # a late draw of another page
    s.handle(ev.Back(), 5)
    assert (s.view.screen, s.view.ebooks.shelf) == (Screen.EBOOKS, "history")


def test_a_search_is_one_row_saying_whether_it_led_to_a_title():
    s = in_ebooks()
    s.handle(ev.OpenSearch(), 3)
    for typed in ("h", "hl", "hlm"):
        assert rows(s.handle(ev.SearchTyped(typed), 3)) == []
    s.handle(ev.OpenTitle("000001"), 4)
    s.handle(ev.Back(), 5)
    assert s.view.screen is Screen.EBOOK_SEARCH and s.view.ebooks.query == "hlm"
    effects = s.handle(ev.Back(), 6)
    assert [(e.kind, e.outcome, e.detail) for e in effects] == [("search", "ok", {"length": 3})]
    s.handle(ev.OpenSearch(), 7)
    s.handle(ev.SearchTyped("zzz"), 7)
    effects = s.handle(ev.EndSession(), 8)
    assert [(e.kind, e.outcome) for e in effects][:1] == [("search", "abandoned")]
    assert s.view.screen is Screen.ATTRACT and s.view.ebooks.query == ""


def test_the_query_is_capped_and_downloads_are_journaled_without_waking_the_kiosk():
    s = in_ebooks()
    s.handle(ev.OpenSearch(), 3)
    s.handle(ev.SearchTyped("a" * 100), 3)
    assert len(s.view.ebooks.query) == 40
    s.handle(ev.EndSession(), 4)
    effects = s.handle(ev.EbookDownloaded("000123", "ok"), 500)
    assert rows(effects) == [("ebook_download", "ok", "000123")]
    assert s.view.screen is Screen.ATTRACT


def _events_the_core_receives() -> set[type]:
    """The classes kiosk/core/events.py declares as events (between its first "# --- events"
    heading and "# --- effects"), and the driver events (those with a `source`)."""
    import ast
    import dataclasses
    from pathlib import Path

    import drivers.events

    text = Path(ev.__file__).read_text(encoding="utf-8")
    lines = text.splitlines()
    first = next(n for n, line in enumerate(lines, 1) if line.startswith("# --- events"))
    last = next(n for n, line in enumerate(lines, 1) if line.startswith("# --- effects"))
    declared = {getattr(ev, node.name) for node in ast.parse(text).body
                if isinstance(node, ast.ClassDef) and first < node.lineno < last}
    from_drivers = {kind for kind in vars(drivers.events).values()
                    if dataclasses.is_dataclass(kind) and isinstance(kind, type)
                    and "source" in {f.name for f in dataclasses.fields(kind)}}
    return declared | from_drivers


def test_every_event_the_core_receives_has_exactly_one_handler():
    """One table maps event types to handlers (the session's and its flows'); building it
    fails on a type handled twice, and an event nobody handles fails here."""
    events = _events_the_core_receives()
    assert len(events) >= 40 and {BarcodeRead, CardRead, TagsSeen} <= events
    handled = make().handlers
    assert events - set(handled) == set()
    assert set(handled) - events == set()  # and nothing that is no event


def test_an_event_without_a_handler_raises_and_one_handled_twice_cannot_be_built():
    from kiosk.core.flow_port import handler_table

    class Unheard:
        pass

    with pytest.raises(TypeError, match="Unheard"):
        make().handle(Unheard(), 1.0)
    with pytest.raises(ValueError, match="Tick"):
        handler_table({ev.Tick: print}, {ev.Tick: print})
