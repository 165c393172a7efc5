"""The kiosk session: which screen is up, the idle timer, the staff PIN, device states.

`Session.handle(event, now) -> effects` is the only way in; `view` is what the screen shows.
Pure: no I/O, no threads, the clock passed in. The caller applies effects in order, journal
rows first, and only then shows the new view, so a row is written before the patron sees it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Callable, Mapping

from drivers.events import BarcodeRead, CardRead, DeviceFault, DeviceStatus, TagsSeen
from kiosk.core import events as ev
from kiosk.core.circulation import CirculationFlow
from kiosk.core.ebook_flow import EbookFlow
from kiosk.core.events import CIRCULATION, CIRCULATION_SCREENS, EBOOK_SCREENS, WELCOMING, Screen
from kiosk.core.flow_port import Effects, Handler, Handlers, handler_table
from kiosk.core.session_view import (
    DeviceState,
    EbookView,
    Farewell,
    Notice,
    OutOfService,
    Settings,
    View,
)
from kiosk.core.staff_flow import StaffFlow

log = logging.getLogger(__name__)

NOTICE_SECONDS = 6.0
FAREWELL_SECONDS = 5.0  # the goodbye screen, then the attract screen (a touch ends it sooner)
ACCESSIBLE_TIME_FACTOR = 2  # the accessibility mode's idle timeout and countdown, doubled
_RESTING_SCREENS = frozenset({*WELCOMING, Screen.OUT_OF_SERVICE})  # no session runs here
# What a patron can do to start or move a session: nothing of it while out of service.
_PATRON_INPUT = (ev.Start, ev.Navigate, ev.CardNumberTyped, ev.PatronPinTyped, ev.ShowShelf,
                 ev.OpenSearch, ev.SearchTyped, ev.OpenTitle, ev.SetAccessible, BarcodeRead,
                 CardRead)
_PATRON_SCREENS = frozenset({Screen.HOME, *CIRCULATION_SCREENS, *EBOOK_SCREENS})
_ALLOWED_MOVES = {
    Screen.HOME: frozenset({*CIRCULATION, Screen.EBOOKS}),
    **{flow: frozenset({Screen.HOME}) for flow in (*CIRCULATION, Screen.IDENTIFY)},
    # A card that cannot borrow may still return books or look at its loans.
    Screen.BLOCKED: frozenset({Screen.HOME, Screen.RETURN, Screen.ACCOUNT}),
    Screen.EBOOKS: frozenset({Screen.HOME}),
}


class Session:
    """The session's own events (screens, idle timer, devices, out of service), and the three
    flows it owns: `ebooks`, `circulation` and `staff` (`kiosk.core.flow_port.SessionPort` is
    what they see of it). Every event type has one handler, in one table."""

    def __init__(self, settings: Settings, now: float, *,
                 wall: Callable[[], datetime] = datetime.now) -> None:
        """`wall` gives local time for receipts; the session's own clock is `now`."""
        self.settings = settings
        self.view = View(language=settings.language)
        self.ebooks = EbookFlow(self)
        self.circulation = CirculationFlow(self, wall)
        self.staff = StaffFlow(self)
        self.handlers: dict[type, Handler] = handler_table(
            self._handlers(), self.ebooks.handlers(), self.circulation.handlers(),
            self.staff.handlers())
        self.circulation.publish()
        self._last_activity = now
        self._started_at: float | None = None  # a patron session is open

    # --- the one way in -------------------------------------------------------------------

    def handle(self, event: object, now: float) -> list[object]:
        effects: list[object] = []
        if self.view.screen is Screen.OUT_OF_SERVICE and isinstance(event, _PATRON_INPUT):
            return effects  # the screen says why; staff still reach the admin screen
        if _is_activity(event):
            self._last_activity = now
            if self.view.countdown is not None:
                self.view = replace(self.view, countdown=None)
        handler = self.handlers.get(type(event))
        if handler is None:  # a programming error: tests check every event has a handler
            raise TypeError(f"the session has no handler for the event {type(event).__name__}")
        handler(event, now, effects)
        return effects

    @property
    def pad_uids(self) -> frozenset[str]:
        """The tags on the pad as last reported (patron cards included)."""
        return self.circulation.pad_uids

    def _handlers(self) -> Handlers:
        return {
            ev.Touch: self._on_Touch, ev.Start: self._on_Start, ev.Navigate: self._on_Navigate,
            ev.EndSession: self._on_EndSession, ev.SetLanguage: self._on_SetLanguage,
            ev.SetAccessible: self._on_SetAccessible,
            DeviceStatus: self._on_DeviceStatus, DeviceFault: self._on_DeviceFault,
            ev.Tick: self._on_Tick, ev.JournalFailed: self._on_JournalFailed,
            ev.JournalRestored: self._on_JournalRestored,
        }

    # --- patron flow ----------------------------------------------------------------------

    def _on_Touch(self, event: ev.Touch, now: float, effects: Effects) -> None:
        pass  # activity is all a touch means here

    def _on_Start(self, event: ev.Start, now: float, effects: Effects) -> None:
        if self.view.screen in WELCOMING:
            self.open_session(now)

    def _on_Navigate(self, event: ev.Navigate, now: float, effects: Effects) -> None:
        screen = self.view.screen
        if event.to not in _ALLOWED_MOVES.get(screen, ()):
            log.warning("no way from %s to %s", screen, event.to)
            return
        if screen in CIRCULATION_SCREENS:
            if not self.circulation.may_leave():
                log.info("not leaving %s: a book is in progress or done (Finish ends it)", screen)
                return
            self.circulation.leave_to_home(effects)
        self.ebooks.leaving(effects)
        books = self.view.ebooks if event.to in EBOOK_SCREENS else EbookView()
        self.view = replace(self.view, ebooks=books)
        if event.to in CIRCULATION:
            self.circulation.enter(event.to, now, effects)
        else:
            self.view = replace(self.view, screen=event.to, notice=None)

    def _on_EndSession(self, event: ev.EndSession, now: float, effects: Effects) -> None:
        self.close(now, "ok", effects)

    def _on_SetLanguage(self, event: ev.SetLanguage, now: float, effects: Effects) -> None:
        if event.language in self.settings.languages:
            self.view = replace(self.view, language=event.language)

    def _on_SetAccessible(self, event: ev.SetAccessible, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.ATTRACT and event.on:
            self.open_session(now)
        if self.view.screen in _PATRON_SCREENS:
            self.view = replace(self.view, accessible=event.on)

    def acknowledge(self, now: float, message: str, args: Mapping[str, str]) -> None:
        if self.view.screen in WELCOMING:
            self.open_session(now)
        if self.view.screen in _PATRON_SCREENS:
            self.view = replace(self.view, notice=Notice(message, args, now))

    def _on_DeviceStatus(self, event: DeviceStatus, now: float, effects: Effects) -> None:
        devices = dict(self.view.devices)
        before = devices.get(event.source)
        faults = before.faults if before else 0
        since = before.since if before and before.state == event.state else now
        devices[event.source] = DeviceState(event.state, event.detail, since, faults)
        self.view = replace(self.view, devices=MappingProxyType(devices))

    def _on_DeviceFault(self, event: DeviceFault, now: float, effects: Effects) -> None:
        devices = dict(self.view.devices)
        before = devices.get(event.source) or DeviceState("connected", "", now)
        devices[event.source] = replace(before, faults=event.count)
        self.view = replace(self.view, devices=MappingProxyType(devices))

    # --- idle timer -----------------------------------------------------------------------

    def _on_Tick(self, event: ev.Tick, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.ADMIN_PIN and self.view.pin_message == "locked":
            self.staff.show_lockout(now)
        notice = self.view.notice
        if notice is not None and now - notice.shown_at >= NOTICE_SECONDS:
            self.view = replace(self.view, notice=None)
        farewell = self.view.farewell
        if self.view.screen is Screen.GOODBYE and (farewell is None or now >= farewell.until):
            self.view = self._resting_view(Screen.ATTRACT)
        if self.view.screen in _RESTING_SCREENS:
            return
        idle = now - self._last_activity
        factor = ACCESSIBLE_TIME_FACTOR if self.view.accessible else 1
        timeout = self.settings.idle_timeout_s * factor
        limit = timeout + self.settings.countdown_s * factor
        if idle >= limit:
            self.close(now, "timeout", effects)
        elif idle >= timeout:
            self.view = replace(self.view, countdown=max(1, math.ceil(limit - idle)))

    # --- out of service: the journal cannot be written ------------------------------------

    def _on_JournalFailed(self, event: ev.JournalFailed, now: float, effects: Effects) -> None:
        """Whatever the patron was doing ends: nothing more may be confirmed. Staff on the
        admin screen stay there, to see why."""
        if self.view.out_of_service is None:
            self.view = replace(self.view, out_of_service=OutOfService(event.cause, now))
        if self.view.screen not in (Screen.ADMIN_PIN, Screen.ADMIN, Screen.OUT_OF_SERVICE):
            self.close(now, "out_of_service", effects)

    def _on_JournalRestored(self, event: ev.JournalRestored, now: float, effects: Effects) -> None:
        self.view = replace(self.view, out_of_service=None)
        if self.view.screen is Screen.OUT_OF_SERVICE:
            self.view = replace(self.view, screen=Screen.ATTRACT)

    # --- opening and closing --------------------------------------------------------------

    def open_session(self, now: float) -> None:
        if self.view.screen is Screen.GOODBYE:  # the next patron, in the kiosk's language
            self.view = self._resting_view(Screen.ATTRACT)
        self._started_at = now
        self.view = replace(self.view, screen=Screen.HOME, notice=None)

    def close(self, now: float, outcome: str, effects: Effects) -> None:
        """Forget everything about the patron; thank them (and ask them to take their card)
        on the goodbye screen when they did something, else back to the attract screen."""
        take_card = self.circulation.take_card()
        self.ebooks.leaving(effects)
        self.circulation.end_session(effects)
        if self._started_at is not None:
            seconds = round(now - self._started_at, 1)
            effects.append(ev.JournalAppend("session", outcome, detail={"seconds": seconds}))
            self._started_at = None
        if take_card is None or self.view.out_of_service is not None:
            self.view = self._resting_view(Screen.ATTRACT)
        else:
            effects.append(ev.SessionClosed(outcome, take_card))
            # The goodbye in the patron's language and type; the attract screen forgets both.
            self.view = replace(self._resting_view(Screen.GOODBYE), language=self.view.language,
                                farewell=Farewell(take_card, now + FAREWELL_SECONDS),
                                accessible=self.view.accessible)
        self.circulation.publish()

    def _resting_view(self, screen: Screen) -> View:
        """A view with no patron in it: the devices and the out-of-service state stay."""
        out = self.view.out_of_service
        return View(screen=Screen.OUT_OF_SERVICE if out else screen,
                    language=self.settings.language, devices=self.view.devices,
                    status=None, out_of_service=out)


def _is_activity(event: object) -> bool:
    if isinstance(event, TagsSeen):
        return bool(event.tags)  # books placed on the pad, not a pad emptied
    # What workers answer is not the patron acting: a slow ILS must not keep a session alive.
    return not isinstance(event, (ev.Tick, DeviceStatus, DeviceFault, ev.StatusArrived,
                                  ev.EbookDownloaded, ev.IlsAnswered, ev.IlsState,
                                  ev.SecurityDone, ev.OfflineCounts, ev.OfflineRecorded,
                                  ev.OfflineReplayed, ev.ReceiptPrinted, ev.UploadFinished,
                                  ev.JournalFailed, ev.JournalRestored, ev.PinChecked,
                                  ev.PinLockoutLoaded))
