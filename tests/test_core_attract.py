"""The attract screen's ways into a session, without a screen: a cover opens its title page, the
accessibility button opens a session in accessible mode, whose idle timer runs twice as long,
and which ends with the session."""

from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.session import ACCESSIBLE_TIME_FACTOR, Session
from kiosk.core.session_view import Settings


def make() -> Session:
    return Session(Settings(idle_timeout_s=60, countdown_s=15), now=0.0)


def rows(effects):
    return [(e.kind, e.outcome, e.item) for e in effects if isinstance(e, ev.JournalAppend)]


def test_a_cover_on_the_attract_screen_opens_its_title_page_in_a_new_session():
    s = make()
    effects = s.handle(ev.OpenTitle("000042"), 5)
    assert s.view.screen is Screen.EBOOK_TITLE
    assert s.view.ebooks.title_id == "000042"
    assert rows(effects) == [("ebook_view", "ok", "000042")]
    # Back leads to the e-book shelves, then home: the patron is inside a session now.
    s.handle(ev.Back(), 6)
    assert s.view.screen is Screen.EBOOKS
    s.handle(ev.Back(), 7)
    assert s.view.screen is Screen.HOME
    assert rows(s.handle(ev.EndSession(), 9)) == [("session", "ok", None)]


def test_the_accessibility_button_on_the_attract_screen_opens_an_accessible_session():
    s = make()
    assert s.view.accessible is False
    s.handle(ev.SetAccessible(True), 1)
    assert (s.view.screen, s.view.accessible) == (Screen.HOME, True)
    s.handle(ev.SetAccessible(False), 2)  # home's button turns it off again
    assert (s.view.screen, s.view.accessible) == (Screen.HOME, False)


def test_accessible_mode_ends_with_the_session():
    s = make()
    s.handle(ev.SetAccessible(True), 1)
    s.handle(ev.EndSession(), 2)
    assert (s.view.screen, s.view.accessible) == (Screen.ATTRACT, False)
    s.handle(ev.Start(), 3)
    assert s.view.accessible is False


def test_accessible_mode_doubles_the_idle_timeout_and_the_countdown():
    assert ACCESSIBLE_TIME_FACTOR == 2
    s = make()
    s.handle(ev.SetAccessible(True), 0)
    s.handle(ev.Tick(), 119)
    assert s.view.countdown is None  # 60 s would have asked
    s.handle(ev.Tick(), 120)
    assert s.view.countdown == 30  # 15 s, doubled
    s.handle(ev.Tick(), 149)
    assert s.view.screen is Screen.HOME
    effects = s.handle(ev.Tick(), 150)
    assert s.view.screen is Screen.ATTRACT and not s.view.accessible
    assert [(k, o) for k, o, _ in rows(effects)] == [("session", "timeout")]


def test_normal_sessions_keep_their_timeout():
    s = make()
    s.handle(ev.Start(), 0)
    s.handle(ev.Tick(), 60)
    assert s.view.countdown == 15


def test_nothing_of_it_while_out_of_service():
    s = make()
    s.handle(ev.JournalFailed("full"), 0)
    s.handle(ev.SetAccessible(True), 1)
    s.handle(ev.OpenTitle("000042"), 1)
    assert s.view.screen is Screen.OUT_OF_SERVICE and not s.view.accessible



def test_the_goodbye_keeps_the_accessible_mode_then_the_attract_screen_forgets_it():
    from kiosk.core.session import FAREWELL_SECONDS
    from tests.test_core_circulation import identified

    s = identified()  # on the borrow screen, the patron's card read
    s.handle(ev.SetAccessible(True), 2)
    s.handle(ev.EndSession(), 3)
    assert (s.view.screen, s.view.accessible) == (Screen.GOODBYE, True)
    s.handle(ev.Tick(), 3 + FAREWELL_SECONDS)
    assert (s.view.screen, s.view.accessible) == (Screen.ATTRACT, False)
