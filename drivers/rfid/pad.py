"""The RFID pad driver: polls a reader, reports the set of tags, and sets item security.

Runs on its own device thread (`SupervisedDriver`), which alone talks to the reader.
`set_security()` may be called from any thread: the request is queued, carried out between
two polls, and answered with the value read back from the tag.

A tag is reported only after its memory and security state were read; a tag missing from one
inventory is kept until it misses a second, so a book at the pad's edge does not flicker.
"""

from __future__ import annotations

import logging
import queue
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace

import serial

from drivers.errors import BadFrame, DeviceError, ReaderError, ReaderTimeout
from drivers.events import Tag, TagsSeen
from drivers.rfid import tagdata
from drivers.rfid.link import BLOCK_SIZE, ReaderLink
from drivers.rfid.sets import item_sets
from drivers.settings import RfidSecurity
from drivers.supervisor import SupervisedDriver

log = logging.getLogger(__name__)
FIRST_READ_BLOCKS = 8  # 32 bytes: an ISO 28560-3 basic block, enough to tell the model
MISSES_BEFORE_GONE = 2
FAILED_POLLS_BEFORE_LOST = 3  # then the reader is reopened, as if unplugged
SECURITY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class SecurityResult:
    uid: str
    secured: bool | None  # as read back from the tag
    value: int | bool  # the AFI byte, or the EAS bit


@dataclass
class _Request:
    uid: str
    secured: bool
    answer: Future


class RfidPad(SupervisedDriver):
    def __init__(self, name: str, events: queue.Queue, link_class: type[ReaderLink], path: str,
                 security: RfidSecurity, **kwargs) -> None:
        super().__init__(name, events, **kwargs)
        self.link_class = link_class
        self.path = path
        self.security = security
        self.version = ""
        self._requests: queue.Queue[_Request] = queue.Queue()
        self._known: dict[str, Tag] = {}  # uid -> tag read successfully
        self._misses: dict[str, int] = {}
        self._unreadable: dict[str, Tag] = {}  # uid -> why its last read failed
        self._reported: tuple[Tag, ...] | None = None

    # --- any thread -----------------------------------------------------------------------

    def set_security(self, uid: str, secured: bool,
                     timeout: float = SECURITY_TIMEOUT_S) -> SecurityResult:
        """Arm or disarm one item's alarm, addressed by UID, and read the value back."""
        if self.status != "connected":
            raise DeviceError(f"{self.name} is not connected ({self.detail or self.status})")
        request = _Request(uid.upper(), secured, Future())
        self._requests.put(request)
        try:
            return request.answer.result(timeout=timeout)
        except TimeoutError:
            raise ReaderTimeout(f"{self.name}: no answer within {timeout:g} s") from None

    # --- the device thread ----------------------------------------------------------------

    def connect(self) -> ReaderLink:
        port = serial.Serial(self.path, self.link_class.baud, timeout=0.05, exclusive=True)
        try:
            link = self.link_class(port)
            link.on_garbage = self.fault  # noise skipped between frames counts as a fault
            self.version = link.probe()
        except BaseException:
            port.close()
            raise
        self._known.clear()
        self._misses.clear()
        self._unreadable.clear()
        self._reported = None
        return link

    def describe(self, link: ReaderLink) -> str:
        return f"{link.name} {self.version} on {self.path}".replace("  ", " ")

    def disconnect(self, link: ReaderLink) -> None:
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
            self._serve_requests(link, wait_s=poll_s)

    def _poll(self, link: ReaderLink) -> None:
        seen = set(link.inventory())
        for uid in seen:
            self._misses.pop(uid, None)
            if uid not in self._known:
                tag, complete = self._read_tag(link, uid)
                # A failed read is tried again at the next poll; a tag that was read but
                # holds nothing we can decode is remembered as it is.
                (self._known if complete else self._unreadable)[uid] = tag
                if complete:
                    self._unreadable.pop(uid, None)
        for uid in list(self._known):
            if uid not in seen:
                self._misses[uid] = self._misses.get(uid, 0) + 1
                if self._misses[uid] >= MISSES_BEFORE_GONE:
                    del self._known[uid], self._misses[uid]
        self._unreadable = {uid: tag for uid, tag in self._unreadable.items() if uid in seen}
        self._report()

    def _read_tag(self, link: ReaderLink, uid: str) -> tuple[Tag, bool]:
        """The tag as read, and whether the read went through (its data may still be bad)."""
        try:
            memory = link.read_blocks(uid, 0, FIRST_READ_BLOCKS)
            memory += self._read_more(link, uid, memory)
            content = tagdata.decode(memory)
            secured = self._read_security(link, uid)
        except ReaderError as e:
            if isinstance(e, BadFrame):
                self.fault(f"tag {uid}: {e}")
            return Tag(uid, error=f"could not read: {e}"), False
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
            return link.read_blocks(uid, FIRST_READ_BLOCKS, more)
        except (BadFrame, ReaderTimeout):
            raise
        except ReaderError as e:
            log.info("%s: tag %s has no blocks past %d (%s)", self.name, uid, len(memory), e)
            return b""

    def _read_security(self, link: ReaderLink, uid: str) -> bool | None:
        if self.security.mode == "eas":
            return link.read_eas(uid)
        afi = link.read_afi(uid)
        return {self.security.afi_secured: True, self.security.afi_unsecured: False}.get(afi)

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
        uid, secured = request.uid, request.secured
        try:
            if self.security.mode == "eas":
                link.write_eas(uid, secured)
                value: int | bool = link.read_eas(uid)
                read_back = bool(value)
            else:
                afi = self.security.afi_secured if secured else self.security.afi_unsecured
                link.write_afi(uid, afi)
                value = link.read_afi(uid)
                read_back = {self.security.afi_secured: True,
                             self.security.afi_unsecured: False}.get(value)
        except ReaderError as e:
            log.warning("%s: security of %s not %s: %s", self.name, uid,
                        "set" if secured else "cleared", e)
            request.answer.set_exception(e)
            return
        log.info("%s: security of %s %s, read back %r", self.name, uid,
                 "set" if secured else "cleared", value)
        if uid in self._known:
            self._known[uid] = replace(self._known[uid], secured=read_back)
            self._report()
        request.answer.set_result(SecurityResult(uid, read_back, value))

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
            request.answer.set_exception(error)
