"""The ILS worker: the one thread that talks to the library system over SIP2.

It owns one `Sip2Client` (which is not thread-safe), carries out the core's `IlsCall`s in the
order they came, sends the SC status heartbeat when idle, reconnects with capped back-off (one
log line per attempt), and puts `IlsAnswered`, `IlsState` (on change only) and
`OfflineReplayed` events on the kiosk's queue. Whenever the offline store holds transactions,
they are replayed, oldest first, before any new call, so the ILS sees them in the order the
patrons made them.

Each request type of `kiosk.core.ils_calls` has one handler in `HANDLERS`, which calls the
client and builds the core's result type from the client's; a request with none raises.

While the ILS is away a call is answered at once with `offline=True` (until the next reconnect
attempt is due), so a patron never waits for a connect timeout per book.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable

from common.masking import mask_numbers_in
from kiosk.core import events as ev
from kiosk.core import ils_calls as ils
from kiosk.ils.offline_store import OfflineStore, OfflineStoreError, Replayed, replay
from kiosk.ils.reconcile import OpenIntent, reconcile
from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.errors import IlsError, IlsOutcomeUnknown, IlsUnavailable
from kiosk.sip2.results import CheckinResult, CheckoutResult, ItemInfo, PatronInfo, RenewResult

log = logging.getLogger(__name__)
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
_STOP = object()


class _Reconcile(tuple):
    """Intents to ask the ILS about, queued like a call."""


class IlsWorker:
    def __init__(self, settings: IlsSettings, events: queue.Queue,
                 offline_store: OfflineStore | None, *,
                 max_backoff_s: float = MAX_BACKOFF_S,
                 client_factory: Callable[[IlsSettings], Any] = Sip2Client,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.events = events
        self.store = offline_store
        self.max_backoff_s = max_backoff_s
        self.clock = clock
        self._client = client_factory(settings)
        self._calls: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._online: bool | None = None
        self._backoff = FIRST_BACKOFF_S
        self._next_attempt = 0.0  # when connecting may be tried again
        self._last_traffic = 0.0
        self.attempts = 0  # connection attempts since start, for tests and status

    # --- any thread -----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ils", daemon=True)
            self._thread.start()

    def submit(self, call: ev.IlsCall) -> None:
        self._calls.put(call)

    def reconcile(self, intents: list[OpenIntent]) -> None:
        """Ask the ILS what became of these intents; a `Reconciled` event for each answer."""
        self._calls.put(_Reconcile(intents))

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the call in hand; calls not yet started are dropped (the app is ending)."""
        if self._thread is not None:
            self._calls.put(_STOP)
            self._thread.join(timeout)
            self._thread = None
        self._client.close()

    @property
    def online(self) -> bool | None:
        return self._online

    # --- the worker thread ----------------------------------------------------------------

    def _run(self) -> None:
        self._connect()
        while True:
            try:
                call = self._calls.get(timeout=self._wait_s())
            except queue.Empty:
                call = None
            if call is _STOP:
                return
            try:
                if call is None:
                    self._idle()
                elif isinstance(call, _Reconcile):
                    self._reconcile(call)
                else:
                    self._carry_out(call)
            except Exception:  # a bug here must not leave the kiosk without its ILS
                log.exception("the ILS worker failed on %r", call)
                if isinstance(call, ev.IlsCall):
                    self._answer(call, None, "internal error", offline=False)

    def _wait_s(self) -> float:
        now = self.clock()
        if self._client.connected:
            return max(0.05, self._last_traffic + self.settings.heartbeat_s - now)
        return max(0.05, self._next_attempt - now)

    def _idle(self) -> None:
        """Nothing to do: the heartbeat when connected, a reconnect attempt when not."""
        if not self._client.connected:
            if self.clock() >= self._next_attempt:
                self._connect()
            return
        if self.clock() - self._last_traffic >= self.settings.heartbeat_s:
            try:
                status = self._client.status()
                self._last_traffic = self.clock()
                self._set_online(True, "" if status.online else "the ILS says it is offline")
            except IlsError as e:
                self._lost(e)
                return
        self._replay()

    def _carry_out(self, call: ev.IlsCall) -> None:
        if not self._client.connected and self.clock() >= self._next_attempt:
            self._connect()
        if not self._client.connected:
            self._answer(call, None, "the ILS cannot be reached", offline=True)
            return
        self._replay()
        handler = HANDLERS.get(type(call.request))
        if handler is None:  # a programming error: the run loop logs it and answers
            raise TypeError(f"the ILS worker has no handler for {type(call.request).__name__}")
        op = type(call.request).__name__
        try:
            result = handler(self._client, call.request)
        except IlsUnavailable as e:
            self._lost(e)
            self._answer(call, None, str(e), offline=True)
            return
        except IlsOutcomeUnknown as e:  # the client closed the link it could not trust;
            log.error("ILS %s: %s", op, mask_numbers_in(str(e)))  # the next call reconnects
            self._answer(call, None, str(e), offline=False, unknown=True)
            return
        except IlsError as e:  # refused login, a reply that cannot be understood
            log.warning("ILS %s failed: %s", op, mask_numbers_in(str(e)))
            self._answer(call, None, str(e), offline=False)
            return
        self._last_traffic = self.clock()
        self._answer(call, result, None, offline=False)

    def _reconcile(self, intents: _Reconcile) -> None:
        if not self._client.connected and self.clock() >= self._next_attempt:
            self._connect()
        if not self._client.connected:
            log.info("%d open intents wait for the ILS", len(intents))
            return
        decided = reconcile(list(intents), self._client, self.events.put)
        self._last_traffic = self.clock()
        log.info("reconciled %d of %d open intents with the ILS", decided, len(intents))
        if not self._client.connected:
            self._lost(IlsUnavailable("the ILS went away while reconciling"))

    def _connect(self) -> None:
        self.attempts += 1
        where = f"{self.settings.host}:{self.settings.port}"
        try:
            status = self._client.connect()
        except IlsError as e:
            delay = self._backoff
            self._backoff = min(self._backoff * 2, self.max_backoff_s)
            self._next_attempt = self.clock() + delay
            log.warning("ILS %s: cannot connect (attempt %d): %s; next try in %.0f s", where,
                        self.attempts, e, delay)
            self._set_online(False, str(e))
            return
        self._backoff = FIRST_BACKOFF_S
        self._last_traffic = self.clock()
        log.info("ILS %s connected%s", where, f" ({status.library_name})"
                 if getattr(status, "library_name", "") else "")
        self._set_online(True, "")
        self._replay()

    def _lost(self, error: Exception) -> None:
        log.warning("ILS connection lost: %s", error)
        self._client.close()
        self._next_attempt = self.clock() + self._backoff
        self._set_online(False, str(error))

    def _replay(self) -> None:
        if self.store is None or not self._client.connected:
            return
        try:
            if not self.store.total_pending():
                return
            sent = replay(self.store, self._client, self._replayed)
        except IlsError as e:
            log.warning("offline replay stopped: %s", mask_numbers_in(str(e)))
            return
        except OfflineStoreError as e:  # the disk failed: new calls still go to the ILS
            log.error("offline replay stopped: the offline store failed: %s", e)
            return
        log.info("offline replay: %d settled, %d left", sent, self.store.total_pending())
        self._last_traffic = self.clock()
        if not self._client.connected:
            self._lost(IlsUnavailable("the ILS went away during the offline replay"))

    def _replayed(self, done: Replayed) -> None:
        tx = done.transaction
        self.events.put(ev.OfflineReplayed(tx.kind, tx.item_id, tx.patron_id, done.outcome,
                                           done.title, done.message))

    def _set_online(self, online: bool, detail: str) -> None:
        if online != self._online:
            self._online = online
            self.events.put(ev.IlsState(online, detail))

    def _answer(self, call: ev.IlsCall, result: ils.IlsResult | None, error: str | None, *,
                offline: bool, unknown: bool = False) -> None:
        self.events.put(ev.IlsAnswered(call.token, result, error, offline, unknown))


# --- the core's requests, carried out: request type -> handler ---------------------------

def patron_record(info: PatronInfo) -> ils.PatronRecord:
    return ils.PatronRecord(
        valid=info.valid, pin_ok=info.pin_ok, name=info.name, blocks=tuple(info.blocks),
        charged=tuple(info.charged), overdue=tuple(info.overdue),
        holds_ready=tuple(info.holds_ready), fines=info.fines, currency=info.currency,
        charged_count=info.charged_count, overdue_count=info.overdue_count,
        hold_count=info.hold_count, message=" ".join(info.screen_message))


def item_record(info: ItemInfo) -> ils.ItemRecord:
    return ils.ItemRecord(title=info.title, circulation=info.circulation, due=info.due,
                          hold_queue=info.hold_queue)


def checkout_reply(result: CheckoutResult) -> ils.CheckoutReply:
    return ils.CheckoutReply(ok=result.ok, title=result.title, due=result.due,
                             due_date=result.due_date, renewal=result.renewal,
                             desensitize=result.desensitize,
                             screen_message=tuple(result.screen_message))


def checkin_reply(result: CheckinResult) -> ils.CheckinReply:
    return ils.CheckinReply(ok=result.ok, title=result.title, resensitize=result.resensitize,
                            alert=result.alert, sort_bin=result.sort_bin,
                            screen_message=tuple(result.screen_message))


def renew_reply(result: RenewResult) -> ils.RenewReply:
    return ils.RenewReply(ok=result.ok, title=result.title, due=result.due,
                          due_date=result.due_date, screen_message=tuple(result.screen_message))


def _look_up_patron(client: Sip2Client, ask: ils.LookUpPatron) -> ils.PatronRecord:
    return patron_record(client.patron(ask.patron_id, ask.pin))


def _look_up_holds(client: Sip2Client, ask: ils.LookUpHolds) -> ils.PatronRecord:
    return patron_record(client.patron(ask.patron_id, ask.pin, wanted="AS"))


def _look_up_item(client: Sip2Client, ask: ils.LookUpItem) -> ils.ItemRecord:
    return item_record(client.item(ask.item_id))


def _check_out(client: Sip2Client, ask: ils.CheckOut) -> ils.CheckoutReply:
    return checkout_reply(client.checkout(ask.patron_id, ask.item_id, ask.pin))


def _check_in(client: Sip2Client, ask: ils.CheckIn) -> ils.CheckinReply:
    return checkin_reply(client.checkin(ask.item_id))


def _renew(client: Sip2Client, ask: ils.RenewLoan) -> ils.RenewReply:
    return renew_reply(client.renew(ask.patron_id, ask.item_id, ask.pin))


def _end_session(client: Sip2Client, ask: ils.EndPatronSession) -> None:
    client.end_session(ask.patron_id)


# Exact types: the requests are final dataclasses, and tests/test_ils_worker.py checks that
# every request in kiosk.core.ils_calls has a handler here.
Handler = Callable[[Sip2Client, Any], "ils.IlsResult | None"]
HANDLERS: dict[type, Handler] = {
    ils.LookUpPatron: _look_up_patron,
    ils.LookUpHolds: _look_up_holds,
    ils.LookUpItem: _look_up_item,
    ils.CheckOut: _check_out,
    ils.CheckIn: _check_in,
    ils.RenewLoan: _renew,
    ils.EndPatronSession: _end_session,
}
