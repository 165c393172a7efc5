"""The kiosk's runtime: one session, its journal, its drivers, and the effects between them.

Runs on one thread (the Kivy main thread in the app): drivers hand events in through `events`,
the screen calls `send()`, and `pump()` drains the queue and lets time pass. No Kivy here.
Anything slow is handed to a worker that answers on `events`: the ILS worker thread for
`IlsCall`s, one thread for the pad's security changes, one for the receipt printer, one for
staff PIN checks (PBKDF2 would freeze the screen for half a second).

Journal first: effects are applied in order, and when a journal row cannot be written the rest
of that batch is dropped and the core hears `JournalFailed` before any screen sees the new view,
so nothing that was not recorded is ever shown as done (the kiosk is then out of service).
Each effect type has one handler in the table `EFFECTS`; an effect with none raises.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Callable

from drivers.base import Driver, Printer, SecurityReader
from drivers.errors import DeviceError
from drivers.registry import UnavailableDriver, open_source
from kiosk import pin_lockout, receipts, status
from kiosk.config import Config
from kiosk.core import events as ev
from kiosk.core.outcomes import Reason
from kiosk.core.pin import verify_pin
from kiosk.core.session import Session
from kiosk.core.session_view import View
from kiosk.core_settings import session_settings
from kiosk.ebooks.assemble import ebooks_for
from kiosk.ils.offline_store import OfflineRefused, OfflineStoreError
from kiosk.ils.reconcile import OpenIntent, Reconciled
from kiosk.journal import Journal
from kiosk.journal_keeper import JournalKeeper
from kiosk.update.activity import ActivityFile

log = logging.getLogger(__name__)
MAX_EVENTS_PER_PUMP = 200  # a flood of driver events must not starve the screen
RECONCILE_EVERY_S = 300.0  # intents left open are asked about again this often
# Screens where nobody is using the kiosk; anywhere else (a patron's session, staff on the admin
# screens) an update's restart waits (kiosk.update.activity).
IDLE_SCREENS = frozenset({ev.Screen.ATTRACT, ev.Screen.OUT_OF_SERVICE})


class Runtime:
    def __init__(self, config: Config, journal: Journal | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 restart: Callable[[], None] = lambda: None) -> None:
        """`journal` open already, or None to open it here (the kiosk starts out of service if
        it cannot be opened)."""
        self.config = config
        self.keeper = JournalKeeper(config, journal, clock=clock)
        self.clock = clock
        self.restart = restart
        self.events = EventQueue()
        self.session = Session(session_settings(config), clock())
        self.drivers = {name: _build_driver(name, source, self.events, config)
                        for name, source in config.devices.items()}
        self.on_view: list[Callable[[View], None]] = []
        # Told each effect of `ev.TELLING` (a book refused, a card stopped, items left on the
        # pad, a session closed), in order, on the main thread: the sound and voice listen.
        self.on_tell: list[Callable[[object], None]] = []
        self._activity = ActivityFile.from_environment()  # $RUNTIME_DIRECTORY/activity
        # Opened now (the screens read the e-book library as they are built); a journal that
        # cannot be opened is reported to the core at start(): the kiosk opens out of service.
        self._journal_failed = self.keeper.start()
        self.library, self.download_server, self.wifi_payload = ebooks_for(
            config, self.keeper.view_counts(), self.events)
        self.offline_store, self.ils = _circulation_for(config, self.events)
        # One thread each, so tags change in the order asked and receipts print one by one.
        self._security = ThreadPoolExecutor(1, thread_name_prefix="security")
        self._printing = ThreadPoolExecutor(1, thread_name_prefix="printer")
        self._pins = ThreadPoolExecutor(1, thread_name_prefix="pin")
        self._reconciling: set[int] = set()  # intents the ILS worker is asking about
        self._next_reconcile = 0.0
        # When pump() last finished a turn (real monotonic time, never the steerable clock):
        # the app pings systemd's watchdog only while this keeps moving.
        self.last_turn = time.monotonic()

    @property
    def view(self) -> View:
        return self.session.view

    @property
    def journal(self) -> Journal | None:
        return self.keeper.journal

    def start(self) -> None:
        self._note_activity()
        if self._journal_failed is not None:
            self.send(self._journal_failed)
        lockout = pin_lockout.load(pin_lockout.path_for(self.config),
                                   self.config.admin.lockout_s)
        self.send(ev.PinLockoutLoaded(lockout.failures, lockout.locked_for_s))
        for driver in self.drivers.values():
            driver.start()
        if self.ils is not None:
            self.ils.start()
        if self.download_server is not None:
            try:
                self.download_server.start()
            except OSError as e:  # the port is taken: the kiosk runs on, phones can't download
                # The server keeps why: the title pages show no code, and the status says so.
                log.error("the e-book download server cannot listen on port %s: %s",
                          self.config.ebooks.port, e)
        self.pump()

    def send(self, event: object) -> None:
        before = self.session.view
        self._handle(event)
        if self.session.view is not before:
            self._note_activity()
            for listener in self.on_view:
                listener(self.session.view)

    def _note_activity(self) -> None:
        self._activity.seen(self.session.view.screen not in IDLE_SCREENS)

    def _handle(self, event: object) -> None:
        if isinstance(event, Reconciled):  # the runtime's own bookkeeping, not the patron's
            self._reconciled(event)
            return
        if (isinstance(event, ev.IlsState) and event.online) or isinstance(
                event, ev.JournalRestored):
            self._next_reconcile = 0.0  # whatever was left open can be asked about now
        failed = self._apply(self.session.handle(event, self.clock()))
        if failed is not None:  # before anyone sees the view that assumed the row was written
            self._handle(failed)

    def pump(self) -> None:
        for _ in range(MAX_EVENTS_PER_PUMP):
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self.send(event)
        change = self.keeper.tick()
        if change is not None:
            self.send(change)
        self._reconcile_when_due()
        self.send(ev.Tick())
        self.last_turn = time.monotonic()

    def turned_since(self, moment: float) -> bool:
        """Whether pump() finished a turn after `moment` (time.monotonic()): it is alive."""
        return self.last_turn > moment

    def close(self) -> None:
        if self.ils is not None:
            self.ils.close()
        self._security.shutdown(wait=True, cancel_futures=True)
        self._printing.shutdown(wait=False, cancel_futures=True)
        self._pins.shutdown(wait=False, cancel_futures=True)
        for driver in self.drivers.values():
            driver.close()
        if self.download_server is not None:
            self.download_server.stop()  # it hands in the refusals it was still counting
            self._drain(ev.EbookDownloaded)
        if self.offline_store is not None:
            self.offline_store.close()
        self.keeper.close()

    def _drain(self, kind: type) -> None:
        """Journal the events of `kind` still queued (the app is ending; others are dropped)."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            if isinstance(event, kind):
                self.send(event)

    def _apply(self, effects: list[object]) -> ev.JournalFailed | None:
        """In order, so that a journal row is durable before what follows it. A row that cannot
        be written ends the batch: what came after it in the core's mind did not happen. An
        effect with no handler in `EFFECTS` is a programming error and raises."""
        for n, effect in enumerate(effects):
            handler = EFFECTS.get(type(effect))
            if handler is None:
                raise TypeError(f"the runtime has no handler for the effect "
                                f"{type(effect).__name__}")
            failed = handler(self, effect)
            if failed is not None:
                if effects[n + 1:]:
                    log.error("not done, the journal having failed: %s",
                              ", ".join(type(e).__name__ for e in effects[n + 1:]))
                return failed
        return None

    # Handlers of effects that are done on another thread or need no more than a call.
    def _journal_intent(self, intent: ev.JournalIntent) -> ev.JournalFailed | None:
        return self.keeper.intent(intent)

    def _settle_intent(self, settle: ev.SettleIntent) -> ev.JournalFailed | None:
        return self.keeper.settle_by_staff(settle.seq)

    def _tell(self, moment: object) -> None:
        for listener in self.on_tell:
            listener(moment)

    def _restart(self, _: ev.RestartApp) -> None:
        self.restart()

    def _start_upload(self, _: ev.RunUpload) -> None:
        threading.Thread(target=self._upload, name="upload", daemon=True).start()

    def _submit_security(self, request: ev.SetSecurity) -> None:
        self._security.submit(self._set_security, request)

    def _submit_print(self, ask: ev.PrintReceipt) -> None:
        """Rendered here, from the core's data (the core has no translations); printed on the
        printer thread."""
        self._printing.submit(self._print, receipts.render(ask.receipt, ask.language))

    def _submit_pin_check(self, check: ev.CheckPin) -> None:
        self._pins.submit(self._check_pin, check)

    def _write(self, row: ev.JournalAppend) -> ev.JournalFailed | None:
        failed = self.keeper.append(row)
        if failed is None and row.kind == "ebook_view" and row.item:
            self.library.viewed(row.item)
        return failed

    def _reconcile_when_due(self) -> None:
        """Hand intents left open (by a crash, or a reply that was lost) to the ILS worker."""
        if self.ils is None or self.clock() < self._next_reconcile:
            return
        self._next_reconcile = self.clock() + RECONCILE_EVERY_S
        intents = [_open_intent(row) for row in self.keeper.open_intents()
                   if row.seq not in self._reconciling]
        if intents:
            self._reconciling.update(intent.seq for intent in intents)
            self.ils.reconcile(intents)

    def _reconciled(self, result: Reconciled) -> None:
        intent = result.intent
        self._reconciling.discard(intent.seq)
        if result.outcome is None:
            return  # still open: listed for staff, asked about again later
        detail = {"ils": result.ils_state}
        if result.due:
            detail["due"] = result.due
        failed = self.keeper.settle(intent.seq, intent.operation, result.outcome,
                                    item=intent.item_id, detail=detail)
        if failed is not None:
            self._handle(failed)

    def _ils_call(self, call: ev.IlsCall) -> None:
        if call.intent is not None and not self.keeper.intent_written(call.intent):
            log.error("ILS %s not sent: its intent is not in the journal",
                      type(call.request).__name__)
        elif self.ils is None:  # the core asks only with an ILS configured; say so if not
            self.events.put(ev.IlsAnswered(call.token, None, "no ILS is configured"))
        else:
            self.ils.submit(call)

    def _check_pin(self, check: ev.CheckPin) -> None:
        """On the PIN thread. Always answers: a PIN screen left waiting would take no PIN."""
        try:
            ok = verify_pin(check.pin, check.pin_hash)
        except Exception:  # a bug here must not leave the keypad "checking" for ever
            log.exception("the staff PIN could not be checked")
            ok = False
        self.events.put(ev.PinChecked(check.token, ok))

    def _save_pin_lockout(self, save: ev.SavePinLockout) -> None:
        path = pin_lockout.path_for(self.config)
        try:
            pin_lockout.save(path, pin_lockout.PinLockout(save.failures, save.locked_for_s))
        except OSError as e:  # the lockout still holds until the app stops
            log.error("%s: the staff PIN's lockout cannot be kept: %s", path, e.strerror or e)

    def _set_security(self, request: ev.SetSecurity) -> None:
        """On the security thread: the pad does it between two polls and reads it back."""
        driver = self.drivers.get(request.device)
        try:
            if not isinstance(driver, SecurityReader):
                raise DeviceError(f"no RFID pad named {request.device!r}")
            result = driver.set_security(request.uid, request.secured)
            done = ev.SecurityDone(request.token, request.uid, True, result.secured)
        except DeviceError as e:
            log.error("%s: security of %s not %s: %s", request.device, request.uid,
                      "set" if request.secured else "cleared", e)
            done = ev.SecurityDone(request.token, request.uid, False, None, str(e))
        self.events.put(done)

    def _print(self, receipt: receipts.Rendered) -> None:
        """On the printer thread: the driver queues the job and waits for the paper."""
        printer = self.drivers.get("printer")
        try:
            if printer is None:
                raise DeviceError("no printer is configured")
            if not isinstance(printer, Printer):  # a device that could not be built
                raise DeviceError(f"the printer is {printer.status}")
            printer.print_receipt(receipt.text, receipt.qr)
            self.events.put(ev.ReceiptPrinted(True))
        except DeviceError as e:
            log.error("printer: the receipt was not printed: %s", e)
            self.events.put(ev.ReceiptPrinted(False, str(e)))

    def _count_offline(self, ask: ev.CountOffline) -> None:
        store = self.offline_store
        try:
            if store is None:
                raise OfflineStoreError("the offline store could not be opened")
            mine = store.counts(ask.patron_id) if ask.patron_id else 0
            self.events.put(ev.OfflineCounts(ask.patron_id, mine, store.total_pending()))
        except OfflineStoreError as e:
            log.error("offline store: %s", e)
            # Counted as full, so nothing is accepted that could not be kept.
            limit = self.config.circulation
            self.events.put(ev.OfflineCounts(ask.patron_id, limit.offline_max_items,
                                             limit.offline_max_total))

    def _record_offline(self, record: ev.OfflineRecord) -> None:
        try:
            if self.offline_store is None:
                raise OfflineStoreError("the offline store could not be opened")
            self.offline_store.add(record.kind, record.patron_id, record.item_id,
                                   datetime.now(timezone.utc))
            self.events.put(ev.OfflineRecorded(record.token, True))
        except OfflineRefused as e:
            log.info("offline %s of %s refused: %s", record.kind, record.item_id, e)
            self.events.put(ev.OfflineRecorded(record.token, False, str(e),
                                               reason=Reason.OFFLINE_NOT_LENDABLE))
        except (OfflineStoreError, ValueError) as e:
            log.error("offline %s of %s not kept: %s", record.kind, record.item_id, e)
            self.events.put(ev.OfflineRecorded(record.token, False, str(e)))

    def _remember_refusal(self, refusal: ev.RememberRefusal) -> None:
        if self.offline_store is None:
            return
        try:
            self.offline_store.remember_refusal(refusal.item_id, refusal.reason)
        except OfflineStoreError as e:  # only offline lending loses this safeguard
            log.error("offline store: %s", e)

    def _acknowledge_offline(self, done: ev.OfflineAcknowledge) -> None:
        """Staff dealt with a refused transaction: mark it, then show the admin list again."""
        from kiosk.ils.offline_store import OfflineStore, store_path
        try:
            if self.offline_store is not None:
                self._acknowledged(self.offline_store, done.id)
            else:  # no ILS configured now, but a store kept from before may still list refusals
                with OfflineStore(store_path(self.config), create=False) as store:
                    self._acknowledged(store, done.id)
        except OfflineStoreError as e:
            log.error("offline transaction %d not marked dealt with: %s", done.id, e)

    def _acknowledged(self, store, offline_id: int) -> None:
        store.acknowledge(offline_id)
        if self.session.view.status is not None:
            self.events.put(ev.StatusArrived(status.with_offline(self.session.view.status, store)))

    def _upload(self) -> None:
        """On its own thread: what the timer's `kiosk upload` does. The state file's lock keeps
        it from running beside the timer's run; requests is loaded only now."""
        from kiosk.upload import outcome
        try:
            finished = outcome.run_now(self.config)
        except Exception as e:  # a bug here must not leave the button stuck on "uploading"
            log.exception("upload failed")
            finished = ev.UploadFinished(False, str(e), cause=outcome.OTHER)
        self.events.put(finished)

    def _gather_status(self, _: ev.GatherStatus) -> None:
        devices = {name: (d.state, d.detail) for name, d in self.session.view.devices.items()}
        fault = self.keeper.fault
        links = self.library.downloads
        downloads = links.state() if links is not None else None

        def work() -> None:
            report = status.gather(self.config, device_states=devices,
                                   journal_fault=fault, downloads=downloads)
            self.events.put(ev.StatusArrived(report))

        # Not a daemon: the app ending while it gathers waits for it (its network checks time
        # out within seconds) instead of killing it mid-call at interpreter shutdown, which
        # was seen to abort the process ("FATAL: exception not rethrown") under load.
        threading.Thread(target=work, name="status").start()


# Effect type -> the runtime's handler, built once. A handler returns the `JournalFailed` of a
# journal row it could not write (which ends the batch), else None. Exact types: the core's
# effects are final dataclasses, and tests/test_runtime_effects.py checks that every effect
# declared in kiosk/core/events.py is here.
EffectHandler = Callable[[Runtime, Any], "ev.JournalFailed | None"]
EFFECTS: dict[type, EffectHandler] = {
    ev.JournalAppend: Runtime._write,
    ev.JournalIntent: Runtime._journal_intent,
    ev.GatherStatus: Runtime._gather_status,
    ev.RestartApp: Runtime._restart,
    ev.RunUpload: Runtime._start_upload,
    ev.IlsCall: Runtime._ils_call,
    ev.SetSecurity: Runtime._submit_security,
    ev.PrintReceipt: Runtime._submit_print,
    ev.CountOffline: Runtime._count_offline,
    ev.OfflineRecord: Runtime._record_offline,
    ev.OfflineAcknowledge: Runtime._acknowledge_offline,
    ev.RememberRefusal: Runtime._remember_refusal,
    ev.SettleIntent: Runtime._settle_intent,
    ev.CheckPin: Runtime._submit_pin_check,
    ev.SavePinLockout: Runtime._save_pin_lockout,
    **{telling: Runtime._tell for telling in ev.TELLING},
}


def _open_intent(row) -> OpenIntent:
    """An intent row of the journal as the reconciler needs it."""
    return OpenIntent(row.seq, row.outcome, row.item or "",
                      (row.detail or {}).get("due_before", ""))


def _build_driver(name: str, source: str, events: queue.Queue, config: Config) -> Driver:
    try:
        return open_source(name, source, events, config.driver_settings)
    except DeviceError as e:  # the config check passed, so a scenario file went bad since
        log.error("%s: %s", name, e)
        return UnavailableDriver(name, str(e), events)


def _circulation_for(config: Config, events: queue.Queue):
    """The offline store and the ILS worker, when an ILS is configured (else None, None).
    Imported here: a kiosk without an ILS never loads the SIP2 client."""
    if not config.ils.host:
        return None, None
    from kiosk.ils import offline_store
    from kiosk.ils.worker import IlsWorker
    from kiosk.sip2.client import IlsSettings
    try:
        store = offline_store.open_for(config)
    except OfflineStoreError as e:  # transactions cannot be kept offline; online still works
        log.error("offline store: %s", e)
        store = None
    return store, IlsWorker(IlsSettings.from_config(config), events, store)


class EventQueue(queue.Queue):
    """The runtime's inbox: drivers and workers put, the main thread drains it in `pump()`.
    `wake` is called after every put, so the app can pump at once instead of at its next
    interval (Kivy's Clock triggers may be called from any thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.wake: Callable[[], None] = lambda: None

    def put(self, item: object, block: bool = True, timeout: float | None = None) -> None:
        super().put(item, block, timeout)
        self.wake()


class SteerableClock:
    """Monotonic time that the demo's walkthrough and the UI tests may move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
