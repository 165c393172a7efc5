"""`Sip2Client`: the kiosk's SIP2 conversation with the ILS. Not thread-safe: the circulation
worker's thread (or the CLI) owns it.

Every message waits at most `timeout_s` for its reply; a timeout or a bad checksum is answered
with 97 (resend) up to `retries` times, and the server's 96 with our message again. A reply that
is still missing is *lost*: the request may or may not have been carried out. Queries are then
simply asked again on a new connection, but a checkout or checkin never is before the ILS has
said the item's state (see docs/sip2.md, "lost replies"): a lost reply never lends a book twice.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable
from datetime import datetime

from kiosk.privacy import mask, mask_numbers_in
from kiosk.sip2 import build, replies
from kiosk.sip2.codec import Message, decode, encode, parse_due, render
from kiosk.sip2.errors import (IlsProtocolError, IlsRefused, IlsUnavailable, IlsUnsupported)
from kiosk.sip2.fields import REPLY
from kiosk.sip2.framing import FrameTooLong, StreamClosed
from kiosk.sip2.results import (CheckinResult, CheckoutResult, ItemInfo, PatronInfo,
                                RenewResult, ScStatus)
from kiosk.sip2.settings import IlsSettings
from kiosk.sip2.transport import Connection

__all__ = ["IlsSettings", "Sip2Client"]

log = logging.getLogger(__name__)
wire = logging.getLogger("kiosk.sip2.wire")

CHARGED = ("charged", "charged_recall")
MESSAGE_NAMES = {"63": "patron information", "23": "patron status", "17": "item information",
                 "11": "checkout", "09": "checkin", "29": "renew", "35": "end session"}


class _ReplyLost(Exception):
    """No usable reply after the resends; the request may have been carried out."""


class Sip2Client:
    def __init__(self, settings: IlsSettings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._conn: Connection | None = None
        self._seq = 0
        self._status: ScStatus | None = None

    # --- connection -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def last_status(self) -> ScStatus | None:
        """The SC status from the last connect or heartbeat (None before the first)."""
        return self._status

    def connect(self) -> ScStatus:
        """A new connection: TCP (or TLS), 93 login when a username is set, then 99."""
        self.close()
        s = self.settings
        if not s.host:
            raise IlsUnavailable("no ILS configured: set [ils] host")
        try:
            self._conn = Connection.open(s, self._clock)
        except OSError as e:
            raise IlsUnavailable(f"cannot connect to {s.address}: {_why(e, s)}") from None
        try:
            if s.username:
                reply, _ = self._exchange(build.login(s))
                if reply.get("ok") != "1":
                    self.close()
                    raise IlsRefused(f"{s.address} refused the SIP2 login of user "
                                     f"{s.username!r}: check [ils] username and password")
            reply, raw = self._exchange(build.sc_status())
        except _ReplyLost as e:
            self.close()
            raise IlsUnavailable(f"{s.address} accepted the connection but {e}") from None
        self._status = replies.sc_status(reply, raw)
        log.info("connected to %s: online %s, checkout %s, checkin %s", s.address,
                 self._status.online, self._status.checkout_ok, self._status.checkin_ok)
        return self._status

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- queries: asked again on a new connection when a reply is lost ----------------------

    def status(self) -> ScStatus:
        """99 -> 98; also the heartbeat. Connects first when not connected."""
        if not self.connected:
            return self.connect()
        reply, raw = self._query(build.sc_status())
        self._status = replies.sc_status(reply, raw)
        return self._status

    def patron(self, patron_id: str, pin: str | None = None) -> PatronInfo:
        """63 with the charged items; 23 (no lists, no counts) when the ILS lacks 63."""
        self._ensure_connected()
        if self._supports("63"):
            request = build.patron_information(self.settings, patron_id, pin, datetime.now())
        elif self._supports("23"):
            request = build.patron_status(self.settings, patron_id, pin, datetime.now())
        else:
            raise IlsUnsupported(f"{self.settings.address} supports neither patron information "
                                 "(63) nor patron status (23)")
        reply, raw = self._query(request)
        return replies.patron(reply, patron_id, raw)

    def item(self, item_id: str) -> ItemInfo:
        """17 -> 18."""
        self._require("17")
        reply, raw = self._query(build.item_information(self.settings, item_id, datetime.now()))
        return replies.item(reply, item_id, raw)

    def end_session(self, patron_id: str) -> None:
        """35 -> 36, when the ILS supports it (nothing otherwise)."""
        self._ensure_connected()
        if self._supports("35"):
            self._query(build.end_session(self.settings, patron_id, datetime.now()))

    # --- transactions: never repeated blindly --------------------------------------------

    def checkout(self, patron_id: str, item_id: str, pin: str | None = None, *,
                 no_block: bool = False, when: datetime | None = None) -> CheckoutResult:
        self._require("11")
        request = build.checkout(self.settings, patron_id, item_id, pin, no_block=no_block,
                                 when=when or datetime.now())
        # Without 63, only 17 can tell afterwards, and only if we know the state before.
        before = None if self._supports("63") or not self._supports("17") else self.item(item_id)
        trail: list[str] = []
        for _ in range(2):
            try:
                reply, raw = self._exchange(request)
                return replies.checkout(reply, item_id, (*trail, *raw))
            except _ReplyLost as e:
                trail += [render(request), f"(reply lost: {e})"]
                log.warning("checkout of %s for %s: reply lost (%s); asking the ILS before "
                            "trying again", item_id, mask(patron_id), e)
            self.connect()
            done, info = self._checkout_done(patron_id, item_id, pin, before, trail)
            if done:
                log.info("checkout of %s for %s was done; its reply had been lost", item_id,
                         mask(patron_id))
                return CheckoutResult(
                    ok=True, item_id=item_id, title=info.title if info else "",
                    due=info.due if info else "",
                    due_date=parse_due(info.due) if info else None, renewal=False,
                    desensitize=None, magnetic=None, fee="", recovered=True, raw=tuple(trail))
            if done is None:
                raise IlsUnavailable(
                    f"the reply to the checkout of {item_id} was lost and {self.settings.address} "
                    "cannot tell whether it was done: check the item at the staff desk")
        raise IlsUnavailable(f"the checkout of {item_id} got no reply twice; "
                             f"{self.settings.address} says it is not done")

    def checkin(self, item_id: str, *, no_block: bool = False,
                when: datetime | None = None) -> CheckinResult:
        self._require("09")
        request = build.checkin(self.settings, item_id, no_block=no_block,
                                when=when or datetime.now())
        trail: list[str] = []
        for _ in range(2):
            try:
                reply, raw = self._exchange(request)
                return replies.checkin(reply, item_id, (*trail, *raw))
            except _ReplyLost as e:
                trail += [render(request), f"(reply lost: {e})"]
                log.warning("checkin of %s: reply lost (%s); asking the ILS before trying "
                            "again", item_id, e)
            self.connect()
            if self._supports("17"):
                info = self.item(item_id)
                trail += info.raw
                if info.circulation not in CHARGED:
                    log.info("checkin of %s was done; its reply had been lost", item_id)
                    return CheckinResult(
                        ok=True, item_id=item_id, title=info.title, resensitize=None,
                        magnetic=None, alert=False, alert_type="", sort_bin="",
                        permanent_location=info.permanent_location, recovered=True,
                        raw=tuple(trail))
            # Still charged, or no 17 to ask: a checkin done twice returns the book once.
        raise IlsUnavailable(f"the checkin of {item_id} got no reply twice from "
                             f"{self.settings.address}")

    def renew(self, patron_id: str, item_id: str, pin: str | None = None) -> RenewResult:
        """29 -> 30. A lost reply is not retried (a second renewal would use up another)."""
        self._require("29")
        request = build.renew(self.settings, patron_id, item_id, pin, datetime.now())
        try:
            reply, raw = self._exchange(request)
        except _ReplyLost as e:
            raise IlsUnavailable(f"the renewal of {item_id} got no reply ({e}); the patron's "
                                 "loans show whether it was done") from None
        return replies.renew(reply, item_id, raw)

    # --- internals ------------------------------------------------------------------------

    def _checkout_done(self, patron_id: str, item_id: str, pin: str | None,
                       before: ItemInfo | None,
                       trail: list[str]) -> tuple[bool | None, ItemInfo | None]:
        """Whether the ILS shows the checkout done (None: it cannot tell), and the item."""
        if self._supports("63"):
            reply, raw = self._exchange_or_unavailable(
                build.patron_information(self.settings, patron_id, pin, datetime.now()))
            trail += raw
            charged = replies.patron(reply, patron_id).charged
            done = any(entry == item_id or entry.startswith(item_id + " ") for entry in charged)
            info = None
            if done and self._supports("17"):
                info = self.item(item_id)
                trail += info.raw
            return done, info
        if before is None:
            return None, None
        info = self.item(item_id)
        trail += info.raw
        if info.circulation not in CHARGED:
            return False, info
        if before.circulation in CHARGED or not info.due:
            return None, info
        return True, info

    def _ensure_connected(self) -> None:
        if not self.connected:
            self.connect()

    def _supports(self, code: str) -> bool:
        return self._status is None or code in self._status.supported

    def _require(self, code: str) -> None:
        self._ensure_connected()
        if not self._supports(code):
            raise IlsUnsupported(f"{self.settings.address} does not support "
                                 f"{MESSAGE_NAMES[code]} ({code})")

    def _query(self, request: Message) -> tuple[Message, tuple[str, ...]]:
        """A request that is safe to repeat: asked once more on a new connection."""
        self._ensure_connected()
        try:
            return self._exchange(request)
        except _ReplyLost as e:
            log.warning("%s: reply lost (%s); reconnecting", self.settings.address, e)
        self.connect()
        return self._exchange_or_unavailable(request)

    def _exchange_or_unavailable(self, request: Message) -> tuple[Message, tuple[str, ...]]:
        try:
            return self._exchange(request)
        except _ReplyLost as e:
            raise IlsUnavailable(f"{self.settings.address}: {e}") from None

    def _exchange(self, request: Message) -> tuple[Message, tuple[str, ...]]:
        """One request and its reply, with resends; the reply and both as text."""
        s, conn = self.settings, self._conn
        if conn is None:
            raise _ReplyLost("not connected")
        seq = self._seq
        self._seq = (self._seq + 1) % 10
        data = encode(request, charset=s.charset, seq=seq, with_checksum=s.checksums)
        sent = decode(data, charset=s.charset)
        expected = REPLY[request.code]
        resends = 0
        try:
            self._send(conn, data, sent)
            deadline = self._clock() + s.timeout_s
            while True:
                problem, garbled = "", False
                try:
                    frame = conn.receive(deadline)
                except socket.timeout:
                    problem = f"no reply within {s.timeout_s:g} s"
                else:
                    reply = self._decoded(frame)
                    if reply is None:
                        problem, garbled = "replies that are not SIP2", True
                    elif reply.checksum_ok is False:
                        problem = "a reply with a wrong checksum"
                    elif reply.code == "96":
                        if resends >= s.retries:
                            self.close()
                            raise IlsProtocolError(
                                f"{s.address} asked {resends + 1} times for our {request.code} "
                                "again: it cannot read it (check [ils] charset and checksums)")
                        resends += 1
                        self._send(conn, data, sent)
                        deadline = self._clock() + s.timeout_s
                        continue
                    elif reply.code != expected or (s.checksums and reply.seq not in (None, seq)):
                        wire.debug("<- (stale, ignored) %s", render(reply, mask_patron=True))
                        continue
                    else:
                        return reply, (render(sent), render(reply))
                if resends >= s.retries:
                    if garbled:
                        raise IlsProtocolError(f"{s.address} sent {problem} (check [ils] port, "
                                               "tls and charset)")
                    raise _ReplyLost(problem)
                resends += 1
                resend = build.resend()
                data97 = encode(resend, charset=s.charset, seq=None, with_checksum=s.checksums)
                self._send(conn, data97, decode(data97, charset=s.charset))
                deadline = self._clock() + s.timeout_s
        except _ReplyLost:
            self.close()
            raise
        except (StreamClosed, OSError) as e:
            self.close()
            raise _ReplyLost(_why(e, s)) from None
        except FrameTooLong as e:
            self.close()
            raise IlsProtocolError(f"{s.address}: {e}") from None
        except IlsProtocolError:
            self.close()
            raise

    def _send(self, conn: Connection, data: bytes, shown: Message) -> None:
        wire.debug("-> %s", render(shown, mask_patron=True))
        conn.send(data, self.settings.timeout_s)

    def _decoded(self, frame: bytes) -> Message | None:
        try:
            reply = decode(frame, charset=self.settings.charset)
        except IlsProtocolError:
            wire.debug("<- (not SIP2) %s", mask_numbers_in(repr(frame[:200])))
            return None
        wire.debug("<- %s", render(reply, mask_patron=True))
        return reply


def _why(error: BaseException, settings: IlsSettings) -> str:
    if isinstance(error, socket.timeout):
        return f"no answer within {settings.timeout_s:g} s"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({error.verify_message}): check [ils] tls_ca"
    if isinstance(error, ssl.SSLError):
        return f"TLS failed ({error.reason or error}): check [ils] tls"
    if isinstance(error, socket.gaierror):
        return f"unknown host {settings.host!r}"
    if isinstance(error, StreamClosed):
        return "the connection was closed by the ILS"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
