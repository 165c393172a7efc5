"""The RFID pad driver: polls a reader, reports the set of tags, and sets item security.

Runs on its own device thread (`SupervisedDriver`), which alone talks to the reader.
`set_security()` may be called from any thread: the request is queued, carried out between
two polls, and answered with the value read back from the tag.

A tag is reported once its memory was read; its security state is read too, and when that
read fails the tag is reported with `secured=None` and read again at each poll until it
answers. A tag missing from one inventory is kept until it misses a second, so a book at the
pad's edge does not flicker. A reader whose inventory has no checksum (the TRF7970A) can
name a tag that does not exist when noise changes a digit: there a new UID is believed only
once the tag answered a request that names it (`link.confirm()`), or two inventories in a
row held it, so a real tag is still reported by its second inventory at the latest.

What the pad says about a tag's alarm is what it last read from the tag: after any security
write or read-back that fails, it reads the tag again, and when that fails too the state is
unknown (None), never the state from before the write. A reader whose replies are too often
late, broken or noisy (`drivers.rfid.health`) is reopened and shows "degraded".
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, replace
from typing import TypeVar

import serial

from drivers.base import SECURITY_TIMEOUT_S, SecurityReader, SecurityResult
from drivers.errors import (
    BadFrame,
    DeviceDegraded,
    DeviceError,
    NotSupported,
    ReaderError,
    ReaderTimeout,
)
from drivers.events import EventSink, Tag, TagsSeen
from drivers.rfid import tagdata
from drivers.rfid.health import Bad, ReplyHealth
from drivers.rfid.link import BLOCK_SIZE, LinkClass, ReaderLink
from drivers.rfid.sets import item_sets
from drivers.settings import RfidSecurity
from drivers.supervisor import RETRY_DELAYS_S, SupervisedDriver

log = logging.getLogger(__name__)
FIRST_READ_BLOCKS = 8  # 32 bytes: an ISO 28560-3 basic block, enough to tell the model
MISSES_BEFORE_GONE = 2
FAILED_POLLS_BEFORE_LOST = 3  # then the reader is reopened, as if unplugged
READS_AFTER_WRITE = 2  # the read-back, and once more when it fails
T = TypeVar("T")


@dataclass
class _Request:
    uid: str
    secured: bool
    answer: Future[SecurityResult]


class RfidPad(SupervisedDriver[ReaderLink], SecurityReader):
    def __init__(self, name: str, events: EventSink, link_class: LinkClass, path: str,
                 security: RfidSecurity, *,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS_S) -> None:
        super().__init__(name, events, retry_delays=retry_delays)
        self.link_class = link_class
        self.path = path
        self.security = security
        self.version = ""
        self._requests: queue.Queue[_Request] = queue.Queue()
        self._serving = False  # a link is open and requests are carried out
        self._known: dict[str, Tag] = {}  # uid -> tag read successfully
        self._misses: dict[str, int] = {}
        self._last_inventory: set[str] = set()  # the UIDs of the last good inventory
        self._unreadable: dict[str, Tag] = {}  # uid -> why its last read failed
        self._security_unknown: set[str] = set()  # known tags whose security read failed
        self._reported: tuple[Tag, ...] | None = None
        self._health = ReplyHealth()
        self._noise = ""  # noise skipped during the current call to the link

    # --- any thread -----------------------------------------------------------------------

    def set_security(self, uid: str, secured: bool,
                     timeout: float = SECURITY_TIMEOUT_S) -> SecurityResult:
        """Arm or disarm one item's alarm, addressed by UID, and read the value back.

        Raises `DeviceError` only when nothing was sent: the reader is not connected, cannot
        do it (`NotSupported`), or did not take the request within `timeout`. Once the write
        may have gone out, the answer is the state read back, or `secured=None` with `error`
        saying why it cannot be known.
        """
        uid = uid.upper()
        if not self._serving:
            raise DeviceError(f"{self.name} is not connected ({self.detail or self.status})")
        request = _Request(uid, secured, Future())
        self._requests.put(request)
        if not wait([request.answer], timeout=timeout).done:
            if request.answer.cancel():  # still queued: the device thread never began it
                raise ReaderTimeout(f"{self.name} did not take the request within {timeout:g} s "
                                    f"(busy or reconnecting); nothing was written to {uid}")
            return SecurityResult(uid, None, None,
                                  f"no result within {timeout:g} s of asking; the tag's state is "
                                  f"unknown until the pad reads it again")
        return request.answer.result()

    # --- the device thread ----------------------------------------------------------------

    def connect(self) -> ReaderLink:
        port = serial.Serial(self.path, self.link_class.baud, timeout=0.05, exclusive=True)
        try:
            port.reset_input_buffer()  # whatever waits there answered someone before us
            link = self.link_class(port)
            link.on_garbage = self._garbage  # noise skipped between frames counts as a fault
            self.version = link.probe()
        except BaseException:
            port.close()
            raise
        self._known.clear()
        self._misses.clear()
        self._last_inventory.clear()
        self._unreadable.clear()
        self._security_unknown.clear()
        self._reported = None
        self._health = ReplyHealth()
        self._serving = True
        return link

    def describe(self, link: ReaderLink) -> str:
        return f"{link.name} {self.version} on {self.path}".replace("  ", " ")

    def disconnect(self, link: ReaderLink) -> None:
        self._serving = False
        link.port.close()
        self._fail_pending(DeviceError(f"{self.name} was disconnected"))

    def serve(self, link: ReaderLink) -> None:
        failed_polls = 0
        poll_s = self.security.poll_ms / 1000
        while not self.stopping:
            try:
                self._poll(link)
                failed_polls = 0
            except (ReaderTimeout, BadFrame) as e:
                failed_polls += 1
                self.fault(f"inventory failed: {e}")
                if failed_polls >= FAILED_POLLS_BEFORE_LOST:
                    raise ReaderError(f"no good reply to {failed_polls} polls in a row") from e
            if self._health.degraded:
                raise DeviceDegraded(self._health.summary())
            if self._health.clean:
                self.recovered()
            self._serve_requests(link, wait_s=poll_s)

    # --- talking to the link, judged ------------------------------------------------------

    def _ask(self, call: Callable[..., T], *args: object) -> T:
        """One call to the link, its replies judged for the reader's health."""
        self._noise = ""
        try:
            result = call(*args)
        except (ReaderTimeout, BadFrame) as e:
            self._health.bad(Bad.LATE if isinstance(e, ReaderTimeout) else Bad.BROKEN, str(e))
            raise
        except ReaderError:
            self._judge_answered()  # the reader answered; a tag did not, or refused
            raise
        self._judge_answered()
        return result

    def _judge_answered(self) -> None:
        if self._noise:
            self._health.bad(Bad.NOISY, self._noise)
        else:
            self._health.good()

    def _garbage(self, detail: str) -> None:
        self._noise = detail
        self.fault(detail)

    # --- polls ----------------------------------------------------------------------------

    def _poll(self, link: ReaderLink) -> None:
        seen = set(self._ask(link.inventory))
        for uid in sorted(seen):
            self._misses.pop(uid, None)
            if uid not in self._known:
                if uid not in self._unreadable and not self._believed(link, uid):
                    continue
                tag, complete = self._read_tag(link, uid)
                # A failed read is tried again at the next poll; a tag that was read but
                # holds nothing we can decode is remembered as it is.
                (self._known if complete else self._unreadable)[uid] = tag
                if complete:
                    self._unreadable.pop(uid, None)
            elif uid in self._security_unknown:
                secured = self._try_read_security(link, uid)
                if uid not in self._security_unknown:
                    log.info("%s: security of %s read again: %s", self.name, uid, secured)
                    self._known[uid] = replace(self._known[uid], secured=secured)
        for uid in list(self._known):
            if uid not in seen:
                self._misses[uid] = self._misses.get(uid, 0) + 1
                if self._misses[uid] >= MISSES_BEFORE_GONE:
                    del self._known[uid], self._misses[uid]
        self._unreadable = {uid: tag for uid, tag in self._unreadable.items() if uid in seen}
        self._security_unknown &= self._known.keys()  # the others are read whole when seen
        self._last_inventory = seen
        self._report()

    def _believed(self, link: ReaderLink, uid: str) -> bool:
        """Whether a new UID is a real tag, not noise in an inventory without a checksum."""
        if link.checked_inventory or uid in self._last_inventory:
            return True
        try:
            self._ask(link.confirm, uid)
        except ReaderError as e:
            if isinstance(e, BadFrame):
                self.fault(f"tag {uid}: {e}")
            log.info("%s: %s not reported unless the next inventory finds it too: %s",
                     self.name, uid, e)
            return False
        return True

    def _read_tag(self, link: ReaderLink, uid: str) -> tuple[Tag, bool]:
        """The tag as read, and whether its memory was read (its data may still be bad)."""
        try:
            memory = self._ask(link.read_blocks, uid, 0, FIRST_READ_BLOCKS)
            memory += self._read_more(link, uid, memory)
        except ReaderError as e:
            if isinstance(e, BadFrame):
                self.fault(f"tag {uid}: {e}")
            return Tag(uid, error=f"could not read: {e}"), False
        content = tagdata.decode(memory)
        secured = self._try_read_security(link, uid)
        return Tag(uid, item_id=content.item_id, isil=content.isil, usage=content.usage,
                   part=content.part, parts=content.parts, secured=secured,
                   model=content.model, error=content.error), True

    def _read_more(self, link: ReaderLink, uid: str, memory: bytes) -> bytes:
        """The rest of a tag's data when its first blocks say there is more. A smaller tag
        than the model allows refuses blocks past its end: then what was read must do."""
        wanted = tagdata.bytes_wanted(memory)
        if wanted <= len(memory):
            return b""
        more = -(-(wanted - len(memory)) // BLOCK_SIZE)
        try:
            return self._ask(link.read_blocks, uid, FIRST_READ_BLOCKS, more)
        except (BadFrame, ReaderTimeout):
            raise
        except ReaderError as e:
            log.info("%s: tag %s has no blocks past %d (%s)", self.name, uid, len(memory), e)
            return b""

    # --- security -------------------------------------------------------------------------

    def _read_security_value(self, link: ReaderLink, uid: str) -> int | bool:
        if self.security.mode == "eas":
            return self._ask(link.read_eas, uid)
        return self._ask(link.read_afi, uid)

    def _meaning(self, value: int | bool) -> bool | None:
        if self.security.mode == "eas":
            return bool(value)
        return {self.security.afi_secured: True, self.security.afi_unsecured: False}.get(value)

    def _try_read_security(self, link: ReaderLink, uid: str) -> bool | None:
        """The tag's security state, or None; a failed read is tried again at later polls."""
        try:
            value = self._read_security_value(link, uid)
        except NotSupported as e:  # will not get better by asking again
            log.warning("%s: security of %s cannot be read: %s", self.name, uid, e)
            self._security_unknown.discard(uid)
            return None
        except ReaderError as e:
            if isinstance(e, BadFrame):
                self.fault(f"tag {uid}: {e}")
            log.info("%s: security of %s not read, trying again at the next poll: %s",
                     self.name, uid, e)
            self._security_unknown.add(uid)
            return None
        self._security_unknown.discard(uid)
        return self._meaning(value)

    def _serve_requests(self, link: ReaderLink, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while not self.stopping:
            left = deadline - time.monotonic()
            try:
                request = self._requests.get(timeout=max(0.0, min(0.05, left)))
            except queue.Empty:
                if time.monotonic() >= deadline:
                    return
                continue
            self._carry_out(link, request)

    def _carry_out(self, link: ReaderLink, request: _Request) -> None:
        if not request.answer.set_running_or_notify_cancel():
            return  # the caller gave up before it began: nothing was sent
        uid = request.uid
        try:
            result = self._secure(link, uid, request.secured)
        except NotSupported as e:  # raised before anything was sent
            log.warning("%s: security of %s not changed: %s", self.name, uid, e)
            request.answer.set_exception(e)
            return
        except BaseException as e:  # the port failed: the write may have gone out
            self._security_unknown.add(uid)
            request.answer.set_result(SecurityResult(
                uid, None, None, f"the reader failed during the write ({e}); the tag's state "
                                 f"is unknown until the pad reads it again"))
            raise
        self._note_security(uid, result)
        request.answer.set_result(result)

    def _secure(self, link: ReaderLink, uid: str, secured: bool) -> SecurityResult:
        """Write, then read back; after any failure read again; unknown if that fails too."""
        problems: list[str] = []
        try:
            if self.security.mode == "eas":
                self._ask(link.write_eas, uid, secured)
            else:
                afi = self.security.afi_secured if secured else self.security.afi_unsecured
                self._ask(link.write_afi, uid, afi)
        except NotSupported:
            raise
        except ReaderError as e:
            problems.append(f"write: {e}")
        value: int | bool | None = None
        for _ in range(READS_AFTER_WRITE):
            try:
                value = self._read_security_value(link, uid)
                break
            except ReaderError as e:
                problems.append(f"read back: {e}")
        read_back = None if value is None else self._meaning(value)
        result = SecurityResult(uid, read_back, value, "; ".join(dict.fromkeys(problems)))
        asked = "set" if secured else "cleared"
        if value is None:
            log.warning("%s: security of %s to be %s is unknown: %s", self.name, uid, asked,
                        result.error)
        elif problems:
            log.warning("%s: security of %s to be %s, read back %r after: %s", self.name, uid,
                        asked, value, result.error)
        else:
            log.info("%s: security of %s %s, read back %r", self.name, uid, asked, value)
        return result

    def _note_security(self, uid: str, result: SecurityResult) -> None:
        """What the tag now says, for the next TagsSeen; unknown states are read again."""
        if result.value is None:
            self._security_unknown.add(uid)
        else:
            self._security_unknown.discard(uid)
        if uid in self._known:
            self._known[uid] = replace(self._known[uid], secured=result.secured)
            self._report()

    # --- reports --------------------------------------------------------------------------

    def _report(self) -> None:
        tags = [*self._known.values(), *self._unreadable.values()]
        current = tuple(sorted(tags, key=lambda tag: tag.uid))
        if current != self._reported:
            self._reported = current
            self.emit(TagsSeen(self.name, current, item_sets(current)))

    def _fail_pending(self, error: Exception) -> None:
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            if request.answer.set_running_or_notify_cancel():
                request.answer.set_exception(error)
