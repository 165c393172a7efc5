"""A device's own thread: open it, serve it until it fails, report, wait, open it again.

Subclasses say how to `connect()`, `serve()` and `disconnect()`; everything that can go wrong
with a device (unplugged, garbage, a bug in a decoder) ends in a logged line and a visible
state, never in a dead thread. The thread is started by `start()`, never by the constructor.

A device that works but badly (`serve()` raises `DeviceDegraded`) is reopened like a lost one,
but shows "degraded" meanwhile, and after the reopen until `serve()` calls `recovered()`: staff
see that it was not well, rather than a brief "lost" and a "connected" that hides it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Generic, TypeVar

from drivers.base import Driver
from drivers.errors import DeviceDegraded
from drivers.events import DeviceFault, DeviceStatus, DriverEvent, EventSink

log = logging.getLogger(__name__)
RETRY_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0)  # then every 10 s, for as long as it takes
STEADY_AFTER_S = 30.0  # a connection that lasted this long starts the back-off afresh
FAULT_LOG_BURST = 10  # log every fault up to this many, then at most one a second
Handle = TypeVar("Handle")  # what connect() opens: a port, a reader link, input nodes


class SupervisedDriver(Driver, Generic[Handle]):
    def __init__(self, name: str, events: EventSink, *,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        self.name = name
        self.events = events
        self.retry_delays = retry_delays
        self._status = "closed"
        self.detail = ""
        self.since = time.monotonic()
        self.faults = 0
        self._last_fault_report = 0.0
        self._degraded_by = ""  # why the device was last reopened as degraded, until recovered
        self._described = ""  # what connect() opened, for the state once it has recovered
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what subclasses provide ----------------------------------------------------------

    def connect(self) -> Handle:
        """Open the device and return its handle; raise OSError or DeviceError if it cannot be."""
        raise NotImplementedError

    def serve(self, handle: Handle) -> None:
        """Read and report until the device fails (raise) or `stopping` is set (return)."""
        raise NotImplementedError

    def disconnect(self, handle: Handle) -> None:
        """Release the handle; called once after every successful `connect()`."""

    def describe(self, handle: Handle) -> str:
        """A few words for the admin screen about what is connected."""
        return ""

    # --- the life cycle -------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"device-{self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
            if thread.is_alive():
                log.error("%s: device thread did not stop within 5 s", self.name)
        if self.status != "closed":
            self._set_state("closed", "closed", announce=False)

    def wait(self, seconds: float) -> bool:
        """Sleep unless the driver is closed meanwhile; True when it was."""
        return self._stop.wait(seconds)

    def recovered(self) -> None:
        """Called from `serve()`: a device reopened as degraded has worked well since."""
        if self._degraded_by:
            log.info("%s: working well again since it was reopened", self.name)
            self._degraded_by = ""
            self._set_state("connected", self._described)

    def emit(self, event: DriverEvent) -> None:
        self.events.put(event)

    def fault(self, detail: str) -> None:
        """Unusable input from the device: log it and count it, then carry on reading."""
        self.faults += 1
        now = time.monotonic()
        if self.faults <= FAULT_LOG_BURST or now - self._last_fault_report >= 1.0:
            self._last_fault_report = now
            log.warning("%s: %s (fault %d)", self.name, detail, self.faults)
            self.emit(DeviceFault(self.name, detail, self.faults))

    def _run(self) -> None:
        attempt = 0
        while not self.stopping:
            attempt += 1
            handle = self._try_connect(attempt)
            if handle is not None:
                began = time.monotonic()
                self._serve_until_lost(handle)
                if time.monotonic() - began >= STEADY_AFTER_S:
                    attempt = 0
            if self.stopping:
                break
            delay = self.retry_delays[min(attempt, len(self.retry_delays)) - 1]
            self.wait(delay)

    def _try_connect(self, attempt: int) -> Handle | None:
        try:
            handle = self.connect()
        except Exception as e:  # noqa: BLE001 - any failure to open is a state, never a crash
            reason = _reason(e)
            log.warning("%s: cannot open (attempt %d): %s", self.name, attempt, reason)
            self._set_state("lost", reason)
            return None
        detail = self._described = self.describe(handle)
        log.info("%s: connected%s", self.name, f" ({detail})" if detail else "")
        if self._degraded_by:
            self._set_state("degraded",
                            f"reopened after: {self._degraded_by}; watching its replies")
        else:
            self._set_state("connected", detail)
        return handle

    def _serve_until_lost(self, handle: Handle) -> None:
        reason, degraded = "closed", False
        try:
            self.serve(handle)
        except Exception as e:  # noqa: BLE001
            reason, degraded = _reason(e), isinstance(e, DeviceDegraded)
            if not isinstance(e, OSError):  # DeviceError and SerialException are OSErrors
                log.exception("%s: driver error", self.name)
                self.fault(f"driver error: {reason}")
        finally:
            try:
                self.disconnect(handle)
            except Exception as e:  # noqa: BLE001
                log.warning("%s: while closing: %s", self.name, _reason(e))
        if self.stopping:
            return
        if degraded:
            log.warning("%s: degraded: %s; reopening", self.name, reason)
            self._degraded_by = reason
            self._set_state("degraded", f"{reason}; reopening")
        else:
            log.warning("%s: lost: %s", self.name, reason)
            self._set_state("lost", reason)

    def _set_state(self, state: str, detail: str, *, announce: bool = True) -> None:
        if state != self.status:
            self.since = time.monotonic()
        changed = (state, detail) != (self.status, self.detail)
        self._status, self.detail = state, detail
        if announce and changed:
            self.emit(DeviceStatus(self.name, state, detail))


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        where = f" {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return str(error) or type(error).__name__
