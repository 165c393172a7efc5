"""Staff at the kiosk: the long press that asks for the staff PIN, the PIN checked off the UI
thread with a lockout after too many wrong ones (kept across restarts), and the admin screen's
requests (status, restart, upload now, intents and offline refusals dealt with).

A flow object of `Session` (same rules: pure, the clock passed in, no I/O, no threads).
"""

from __future__ import annotations

import math
from dataclasses import replace

from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.core.flow_port import Effects, Flow, Handlers, SessionPort


class StaffFlow(Flow):
    """The staff PIN and the admin screen; the session asks it to `show_lockout` on each tick."""

    def __init__(self, session: SessionPort) -> None:
        super().__init__(session)
        self._failed_pins = 0
        self._locked_until = 0.0
        self._pin_tokens = 0
        self._pin_checking: int | None = None  # the token of the check under way
        # "Upload now" outlives the session that asked for it (the view is new for each):
        # staff coming back find the button still off, or what came of it.
        self._uploading = False
        self._upload_result: ev.UploadFinished | None = None

    def handlers(self) -> Handlers:
        return {
            ev.AdminGesture: self._on_AdminGesture, ev.PinLockoutLoaded: self._on_PinLockoutLoaded,
            ev.PinSubmitted: self._on_PinSubmitted, ev.PinChecked: self._on_PinChecked,
            ev.RefreshStatus: self._on_RefreshStatus, ev.StatusArrived: self._on_StatusArrived,
            ev.RestartRequested: self._on_RestartRequested,
            ev.UploadRequested: self._on_UploadRequested,
            ev.UploadFinished: self._on_UploadFinished, ev.IntentChecked: self._on_IntentChecked,
            ev.AcknowledgeOffline: self._on_AcknowledgeOffline,
        }

    def _on_AdminGesture(self, event: ev.AdminGesture, now: float, effects: Effects) -> None:
        if self.view.screen in (Screen.ADMIN_PIN, Screen.ADMIN):
            return
        # An activity event: the session's idle timer started again when it came in.
        self._session.close(now, "admin", effects)
        message = None if self.settings.pin_hash else "no_pin"
        if self._pin_checking is not None:
            message = "checking"
        self.view = replace(self.view, screen=Screen.ADMIN_PIN, pin_message=message)
        self.show_lockout(now)

    def _on_PinLockoutLoaded(self, event: ev.PinLockoutLoaded, now: float,
                             effects: Effects) -> None:
        """At start, from the data folder. Wrong PINs up to the limit with no lockout are
        guesses whose answer a restart cut off: they lock as if it had come."""
        self._failed_pins = max(0, event.failures)
        if event.locked_for_s > 0:
            self._locked_until = now + min(event.locked_for_s, self.settings.lockout_s)
        elif self._failed_pins >= self.settings.max_pin_attempts:
            self._lock(now, effects)
        if self.view.screen is Screen.ADMIN_PIN:
            self.show_lockout(now)

    def _on_PinSubmitted(self, event: ev.PinSubmitted, now: float, effects: Effects) -> None:
        if self.view.screen is not Screen.ADMIN_PIN or self._pin_checking is not None:
            return  # one guess at a time
        if now < self._locked_until:
            self.show_lockout(now)
            return
        # Counted, and kept, before the answer: pulling the plug while a PIN is checked must
        # not make the guess free.
        self._failed_pins += 1
        effects.append(ev.SavePinLockout(self._failed_pins, 0.0))
        if not self.settings.pin_hash:
            self._wrong_pin(now, effects)
            return
        self._pin_tokens += 1
        self._pin_checking = self._pin_tokens
        effects.append(ev.CheckPin(self._pin_tokens, event.pin, self.settings.pin_hash))
        self.view = replace(self.view, pin_message="checking")

    def _on_PinChecked(self, event: ev.PinChecked, now: float, effects: Effects) -> None:
        """The answer counts wherever the kiosk is now; only on the PIN screen does a right
        PIN open the admin screen (Cancel or the idle timer may have closed it meanwhile)."""
        if event.token != self._pin_checking:
            return
        self._pin_checking = None
        if not event.ok:
            self._wrong_pin(now, effects)
            return
        self._failed_pins = 0
        effects.append(ev.SavePinLockout(0, 0.0))
        if self.view.screen is Screen.ADMIN_PIN:
            effects.append(ev.JournalAppend("admin", "ok"))
            effects.append(ev.GatherStatus())
            self.view = replace(self.view, screen=Screen.ADMIN, pin_message=None,
                                uploading=self._uploading, upload_result=self._upload_result)

    def _wrong_pin(self, now: float, effects: Effects) -> None:
        outcome = "pin_wrong"
        message = "wrong" if self.settings.pin_hash else "no_pin"
        if self._failed_pins >= self.settings.max_pin_attempts:
            self._lock(now, effects)
            outcome, message = "pin_locked", "locked"
        effects.append(ev.JournalAppend("admin", outcome))
        if self.view.screen is Screen.ADMIN_PIN:
            self.view = replace(self.view, pin_message=message)
            self.show_lockout(now)

    def _lock(self, now: float, effects: Effects) -> None:
        self._locked_until = now + self.settings.lockout_s
        self._failed_pins = 0
        effects.append(ev.SavePinLockout(0, self.settings.lockout_s))

    def show_lockout(self, now: float) -> None:
        """While locked, the PIN screen says for how long (whole seconds, counting down);
        after, it asks for the PIN again."""
        left = math.ceil(self._locked_until - now)
        if left > 0:
            if (self.view.pin_message, self.view.pin_wait_s) != ("locked", left):
                self.view = replace(self.view, pin_message="locked", pin_wait_s=left)
        elif self.view.pin_message == "locked":
            message = None if self.settings.pin_hash else "no_pin"
            self.view = replace(self.view, pin_message=message, pin_wait_s=None)

    def _on_RefreshStatus(self, event: ev.RefreshStatus, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.ADMIN:
            effects.append(ev.GatherStatus())

    def _on_StatusArrived(self, event: ev.StatusArrived, now: float, effects: Effects) -> None:
        self.view = replace(self.view, status=event.report)

    def _on_RestartRequested(self, event: ev.RestartRequested, now: float,
                             effects: Effects) -> None:
        if self.view.screen is Screen.ADMIN:
            effects.append(ev.JournalAppend("admin", "restart"))
            effects.append(ev.RestartApp())

    def _on_UploadRequested(self, event: ev.UploadRequested, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.ADMIN and not self._uploading:
            effects.append(ev.JournalAppend("admin", "upload"))
            effects.append(ev.RunUpload())
            self._uploading = True
            self.view = replace(self.view, uploading=True)

    def _on_UploadFinished(self, event: ev.UploadFinished, now: float, effects: Effects) -> None:
        self._uploading, self._upload_result = False, event
        self.view = replace(self.view, uploading=False, upload_result=event)
        if self.view.screen is Screen.ADMIN:  # the central check shows what came of it
            effects.append(ev.GatherStatus())

    def _on_IntentChecked(self, event: ev.IntentChecked, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.ADMIN:
            effects.append(ev.SettleIntent(event.seq))
            effects.append(ev.GatherStatus())

    def _on_AcknowledgeOffline(self, event: ev.AcknowledgeOffline, now: float,
                               effects: Effects) -> None:
        if self.view.screen is Screen.ADMIN:
            effects.append(ev.JournalAppend("admin", "offline_acknowledged",
                                            detail={"offline_id": event.id}))
            effects.append(ev.OfflineAcknowledge(event.id))
