"""`Sip2Client`: the kiosk's SIP2 conversation with the ILS. Not thread-safe: the circulation
worker's thread (or the CLI) owns it.

Every message waits at most `timeout_s` for its reply; a timeout, a bad checksum or a reply
that cannot be read is answered with 97 (resend) up to `retries` times, and the server's 96
with our message again. A reply that is still missing is *lost*: the request may or may not
have been carried out. Queries are then simply asked again on a new connection. A checkout,
checkin or renewal goes through one path whatever the fault (timeout, closed connection,
bad checksums, garbage, a line too long, bytes the charset cannot read): ask the ILS what it
did (`outcome`), then return the truth: done (`recovered=True`), not done (sent once more),
or `IlsOutcomeUnknown`. See docs/sip2.md, "Lost replies".
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime

from common.marks import N_
from common.masking import mask_numbers_in
from kiosk.errors import Said
from kiosk.sip2 import build, outcome, replies
from kiosk.sip2.charset_guess import advice, looks_like
from kiosk.sip2.codec import BLANK_DATE, Message, decode, encode, render
from kiosk.sip2.errors import (
    IlsError,
    IlsOutcomeUnknown,
    IlsProtocolError,
    IlsRefused,
    IlsUnavailable,
    IlsUnsupported,
)
from kiosk.sip2.fields import REPLY
from kiosk.sip2.framing import MAX_FRAME, FrameTooLong, StreamClosed
from kiosk.sip2.outcome import Finding, Outcome
from kiosk.sip2.results import (
    CheckinResult,
    CheckoutResult,
    ItemInfo,
    PatronInfo,
    RenewResult,
    ScStatus,
)
from kiosk.sip2.settings import IlsSettings
from kiosk.sip2.transport import Connection

__all__ = ["IlsSettings", "Sip2Client"]

log = logging.getLogger(__name__)
# Said to a technician (`kiosk sip2 ...`) in their language; logs, JSON and the admin screen
# keep the English text.
CANNOT_CONNECT = N_("cannot connect to {address}: {why}")
LOGIN_REFUSED = N_("{address} refused the SIP2 login of user {user!r}: check [ils] username and "
                   "password")
UNREADABLE = N_("{address} sent {what} (check [ils] port, tls and charset)")
WANTS_LOGIN = N_("{address} closed the connection when asked its status (99) without a login: "
                 "the server may want a SIP2 login: set [ils] username and password")
NO_ANSWER = N_("no answer within {seconds} s")
UNTRUSTED = N_("its TLS certificate is not trusted ({why}): check [ils] tls_ca")
TLS_FAILED = N_("TLS failed ({why}): check [ils] tls")
UNKNOWN_HOST = N_("unknown host {host!r}")
CLOSED = N_("the connection was closed by the ILS")
wire = logging.getLogger("kiosk.sip2.wire")

MESSAGE_NAMES = {"63": "patron information", "23": "patron status", "17": "item information",
                 "11": "checkout", "09": "checkin", "29": "renewal", "35": "end session"}
# The field a reply repeats from its request: a reply renumbered by the server after our 97
# is taken only when it is about the same item or patron.
SUBJECT = {"12": "AB", "10": "AB", "30": "AB", "18": "AB", "64": "AA", "24": "AA", "36": "AA"}
TRANSCRIPT_LINES = 200


class _ReplyLost(Exception):
    """No usable reply after the resends. `reached`: the request may have reached the ILS
    (False only when it could not be sent at all); `closed`: the ILS closed the connection;
    `unreadable`: bytes came back, never a readable reply (a wrong port, TLS or charset is
    likelier than a network fault)."""

    def __init__(self, why: str, *, reached: bool = True, closed: bool = False,
                 unreadable: bool = False) -> None:
        super().__init__(why)
        self.reached = reached
        self.closed = closed
        self.unreadable = unreadable


class Sip2Client:
    def __init__(self, settings: IlsSettings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._conn: Connection | None = None
        self._seq = 0
        self._status: ScStatus | None = None
        self._charset_hint: str | None = None
        self._transcript: deque[str] = deque(maxlen=TRANSCRIPT_LINES)

    # --- connection -----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def last_status(self) -> ScStatus | None:
        """The SC status from the last connect or heartbeat (None before the first)."""
        return self._status

    @property
    def charset_hint(self) -> str | None:
        """The charset the ILS's text looks like when it is not `[ils] charset` (from the
        last reply with text beyond ASCII), else None."""
        return self._charset_hint

    @property
    def transcript(self) -> tuple[str, ...]:
        """The last messages sent and received, as text with secrets replaced (for `--raw`,
        also when a command fails), and notes on what went wrong."""
        return tuple(self._transcript)

    def connect(self) -> ScStatus:
        """A new connection: TCP (or TLS), 93 login when a username is set, then 99."""
        self.close()
        s = self.settings
        if not s.host:
            raise IlsUnavailable("no ILS configured: set [ils] host")
        try:
            self._conn = Connection.open(s, self._clock)
        except OSError as e:
            raise IlsUnavailable(Said(CANNOT_CONNECT, address=s.address, why=_why(e, s))) from None
        try:
            if s.username:
                reply, _ = self._exchange(build.login(s))
                if reply.get("ok") != "1":
                    self.close()
                    raise IlsRefused(Said(LOGIN_REFUSED, address=s.address, user=s.username))
            reply, raw = self._exchange(build.sc_status())
        except _ReplyLost as e:
            self.close()
            if e.unreadable:
                raise IlsProtocolError(Said(UNREADABLE, address=s.address, what=str(e))) from None
            if e.closed and not s.username:
                raise IlsUnavailable(Said(WANTS_LOGIN, address=s.address)) from None
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
        """99 -> 98; also the heartbeat. Connects first when not connected (or when the ILS
        closed the idle connection)."""
        self._drop_if_closed_by_peer()
        if not self.connected:
            return self.connect()
        reply, raw = self._query(build.sc_status())
        self._status = replies.sc_status(reply, raw)
        return self._status

    def patron(self, patron_id: str, pin: str | None = None, *,
               wanted: str = "AU") -> PatronInfo:
        """63 with one list (`wanted`: the charged items AU, the holds ready AS, ...); 23 (no
        lists, no counts) when the ILS lacks 63."""
        self._ensure_connected()
        if self._supports("63"):
            request = build.patron_information(self.settings, patron_id, pin, datetime.now(),
                                               wanted)
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

    # --- transactions: never repeated before the ILS has said it did not act ---------------

    def checkout(self, patron_id: str, item_id: str, pin: str | None = None, *,
                 no_block: bool = False, when: datetime | None = None) -> CheckoutResult:
        self._require("11")
        request = build.checkout(self.settings, patron_id, item_id, pin, no_block=no_block,
                                 when=when or datetime.now())
        # Without 63, only 17 can tell afterwards, and only if we know the state before.
        before = None if self._supports("63") or not self._supports("17") else self.item(item_id)

        def ask(trail: list[str]) -> tuple[Finding, CheckoutResult | None]:
            info = None
            if self._supports("63"):
                reply, raw = self._query(build.patron_information(
                    self.settings, patron_id, pin, datetime.now()))
                trail += raw
                found = outcome.checkout_by_patron(replies.patron(reply, patron_id), item_id)
            elif before is not None:
                info = self.item(item_id)
                trail += info.raw
                found = outcome.checkout_by_item(before, info)
            else:
                return Finding(Outcome.UNKNOWN, "the ILS has neither patron information (63) "
                                                "nor item information (17) to ask"), None
            if found.outcome is not Outcome.DONE:
                return found, None
            info = info or self._title_and_due(item_id, trail)
            return found, outcome.recovered_checkout(item_id, info, tuple(trail))

        return self._transaction(request, item_id, replies.checkout, ask)

    def checkin(self, item_id: str, *, no_block: bool = False,
                when: datetime | None = None) -> CheckinResult:
        self._require("09")
        request = build.checkin(self.settings, item_id, no_block=no_block,
                                when=when or datetime.now())

        def ask(trail: list[str]) -> tuple[Finding, CheckinResult | None]:
            if not self._supports("17"):
                return Finding(Outcome.UNKNOWN, "the ILS has no item information (17) to "
                                                "ask"), None
            info = self.item(item_id)
            trail += info.raw
            found = outcome.checkin_by_item(info)
            done = found.outcome is Outcome.DONE
            return found, outcome.recovered_checkin(item_id, info, tuple(trail)) if done else None

        return self._transaction(request, item_id, replies.checkin, ask)

    def renew(self, patron_id: str, item_id: str, pin: str | None = None) -> RenewResult:
        """29 -> 30. The due date before (17) tells afterwards whether a renewal whose reply
        was lost was done; it is never sent twice (a second one would use up another)."""
        self._require("29")
        request = build.renew(self.settings, patron_id, item_id, pin, datetime.now())
        before = self.item(item_id) if self._supports("17") else None

        def ask(trail: list[str]) -> tuple[Finding, RenewResult | None]:
            if before is None:
                return Finding(Outcome.UNKNOWN, "the ILS has no item information (17) to "
                                                "compare the due date with"), None
            info = self.item(item_id)
            trail += info.raw
            found = outcome.renewal_by_item(before, info)
            done = found.outcome is Outcome.DONE
            return found, outcome.recovered_renewal(item_id, info, tuple(trail)) if done else None

        return self._transaction(request, item_id, replies.renew, ask)

    # --- the one path for lost replies ---------------------------------------------------

    def _transaction(self, request: Message, item_id: str, read: Callable,
                     ask: Callable[[list[str]], tuple[Finding, object]]):
        """Send; on a lost reply ask the ILS what it did: done -> the recovered result, not
        done -> send once more, unknown (or the ILS cannot be asked) -> IlsOutcomeUnknown.
        IlsUnavailable only when the request certainly was not carried out."""
        what = f"{MESSAGE_NAMES[request.code]} of {item_id}"
        address = self.settings.address
        trail: list[str] = []
        why = ""
        for _ in range(2):
            try:
                reply, raw = self._exchange(request)
                return read(reply, item_id, (*trail, *raw))
            except _ReplyLost as e:
                trail += [render(request), f"(reply lost: {e})"]
                why = str(e)
                lost = e
            if not lost.reached:  # nothing went out: no need to ask
                log.info("the %s could not be sent (%s); sending it on a new connection", what,
                         lost)
                self.connect()
                continue
            log.warning("the %s: reply lost (%s); asking %s what it did", what, lost, address)
            try:
                self.connect()
                found, result = ask(trail)
            except IlsError as e:
                self.close()
                raise IlsOutcomeUnknown(
                    f"the reply to the {what} was lost ({lost}) and {address} could not be "
                    f"asked what it did ({mask_numbers_in(str(e))}): staff must check the "
                    "item") from None
            if found.outcome is Outcome.DONE:
                log.info("the %s was done (%s); its reply had been lost", what, found.why)
                return result
            if found.outcome is Outcome.UNKNOWN:
                raise IlsOutcomeUnknown(
                    f"the reply to the {what} was lost ({lost}) and {address} cannot tell "
                    f"whether it was done: {found.why}; staff must check the item")
            log.info("the %s was not done (%s); sending it once more", what, found.why)
            why = f"{lost}; {found.why}"
        raise IlsUnavailable(f"the {what} got no reply twice and {address} says it was not "
                             f"done ({why})")

    def _title_and_due(self, item_id: str, trail: list[str]) -> ItemInfo | None:
        """The item's title and due date for a recovered checkout; the checkout stays done
        when they cannot be had."""
        if not self._supports("17"):
            return None
        try:
            info = self.item(item_id)
        except IlsError as e:
            log.info("the title of %s cannot be had now: %s", item_id, e)
            return None
        trail += info.raw
        return info

    # --- internals ------------------------------------------------------------------------

    def _drop_if_closed_by_peer(self) -> None:
        """A server that closes idle connections is normal: connect again quietly."""
        if self._conn is not None and self._conn.closed_by_peer():
            log.info("%s closed the idle connection; connecting again", self.settings.address)
            self._note("(the ILS closed the idle connection)")
            self.close()

    def _ensure_connected(self) -> None:
        self._drop_if_closed_by_peer()
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
        address = self.settings.address
        try:
            return self._exchange(request)
        except _ReplyLost as e:
            if e.unreadable:
                raise IlsProtocolError(Said(UNREADABLE, address=address, what=str(e))) from None
            # A server closing a link is routine; a reply that never came is not.
            log.log(logging.INFO if e.closed or not e.reached else logging.WARNING,
                    "%s: reply lost (%s); asking again on a new connection", address, e)
        self.connect()
        try:
            return self._exchange(request)
        except _ReplyLost as e:
            if e.unreadable:
                raise IlsProtocolError(Said(UNREADABLE, address=address, what=str(e))) from None
            raise IlsUnavailable(f"{address}: {e}") from None

    def _exchange(self, request: Message) -> tuple[Message, tuple[str, ...]]:
        """One request and its reply, with resends; the reply and both as text. Raises
        _ReplyLost, or IlsProtocolError when the ILS keeps asking for the request again
        (96: it cannot read it, so it did not act on it)."""
        s, conn = self.settings, self._conn
        if conn is None:
            raise _ReplyLost("not connected", reached=False)
        seq = self._seq
        self._seq = (self._seq + 1) % 10
        data = encode(request, charset=s.charset, seq=seq, with_checksum=s.checksums)
        sent = decode(data, charset=s.charset)
        try:
            self._send(conn, data, sent)
        except OSError as e:  # not all of it left, so not its final CR: never carried out
            self.close()
            raise _ReplyLost(_why(e, s), reached=False, closed=True) from None
        try:
            reply = self._await_reply(conn, request, data, sent, seq)
        except _ReplyLost as e:
            self._note(f"(reply lost: {e})")
            self.close()
            raise
        except (StreamClosed, OSError) as e:
            self._note(f"(reply lost: {_why(e, s)})")
            self.close()
            closed = isinstance(e, (StreamClosed, ConnectionResetError, BrokenPipeError))
            raise _ReplyLost(_why(e, s), closed=closed) from None
        except FrameTooLong:
            self._note(f"(a line longer than {MAX_FRAME // 1024} KB)")
            self.close()
            raise _ReplyLost(f"a reply longer than {MAX_FRAME // 1024} KB",
                             unreadable=True) from None
        except IlsProtocolError:
            self.close()
            raise
        return reply, (render(sent), render(reply))

    def _await_reply(self, conn: Connection, request: Message, data: bytes, sent: Message,
                     seq: int) -> Message:
        s = self.settings
        expected = REPLY[request.code]
        resends = 0
        after_97 = False  # a 97 went out since the request: a renumbered reply may come
        deadline = self._clock() + s.timeout_s
        while True:
            unreadable = False
            try:
                frame = conn.receive(deadline)
            except TimeoutError:
                problem = f"no reply within {s.timeout_s:g} s"
                self._note(f"({problem})")
            else:
                reply = self._readable(frame)
                if reply is None:
                    problem, unreadable = "replies that cannot be read as SIP2", True
                elif reply.checksum_ok is False:
                    problem = "a reply with a wrong checksum"
                elif reply.code == "96":
                    if after_97:  # it cannot give its reply again: what it did is unknown
                        raise _ReplyLost("the ILS asked for our message again after our "
                                         "resend request")
                    if resends >= s.retries:
                        raise IlsProtocolError(self._cannot_read(request, resends + 1))
                    resends += 1
                    self._send(conn, data, sent)
                    deadline = self._clock() + s.timeout_s
                    continue
                elif reply.code != expected or not self._answers(reply, request, seq, after_97):
                    wire.debug("<- (stale, ignored) %s", render(reply, mask_patron=True))
                    continue
                else:
                    return reply
            if resends >= s.retries:
                raise _ReplyLost(problem, unreadable=unreadable)
            resends += 1
            after_97 = True
            data97 = encode(build.resend(), charset=s.charset, seq=None,
                            with_checksum=s.checksums)
            self._send(conn, data97, decode(data97, charset=s.charset))
            deadline = self._clock() + s.timeout_s

    def _answers(self, reply: Message, request: Message, seq: int, after_97: bool) -> bool:
        """Whether a reply of the right type answers this request: its sequence number, or,
        right after our 97, the same item or patron (some servers renumber what they resend)."""
        if not self.settings.checksums or reply.seq in (None, seq):
            return True
        tag = SUBJECT.get(reply.code)
        return after_97 and (tag is None or not reply.has(tag)
                             or reply.first(tag) == request.first(tag))

    def _cannot_read(self, request: Message, times: int) -> str:
        address = self.settings.address
        text = f"{address} asked {times} times for our {request.code} again: it cannot read it"
        if request.code in ("11", "29") and request.get("nb_due_date") == BLANK_DATE:
            return (f"{text}; if it rejects 18 blanks as the due date, set [ils] no_due_date "
                    '= "transaction_date"')
        return f"{text} (check [ils] charset, checksums and empty_fields)"

    def _send(self, conn: Connection, data: bytes, shown: Message) -> None:
        wire.debug("-> %s", render(shown, mask_patron=True))
        self._note(render(shown))
        conn.send(data, self.settings.timeout_s)

    def _readable(self, frame: bytes) -> Message | None:
        """The reply, or None when it is not SIP2 or its fixed fields cannot be read (they
        are ASCII; an "ok" that is neither 0 nor 1 must not pass for a refusal)."""
        try:
            reply = decode(frame, charset=self.settings.charset)
        except IlsProtocolError:
            reply = None
        if reply is None or not all(value.isascii() and value.isprintable()
                                    for _, value in reply.fixed) \
                or any(name == "ok" and value not in "01" for name, value in reply.fixed):
            wire.debug("<- (unreadable) %s", mask_numbers_in(repr(frame[:200])))
            self._note(f"(unreadable: {mask_numbers_in(repr(frame[:80]))})")
            return None
        wire.debug("<- %s", render(reply, mask_patron=True))
        self._note(render(reply))
        self._check_charset(frame)
        return reply

    def _check_charset(self, frame: bytes) -> None:
        if frame.isascii():
            return
        hint = looks_like(frame, self.settings.charset)
        if hint != self._charset_hint:
            self._charset_hint = hint
            if hint:
                log.warning("%s: %s", self.settings.address, advice(hint))

    def _note(self, line: str) -> None:
        self._transcript.append(line)


def _why(error: BaseException, settings: IlsSettings) -> str:
    if isinstance(error, socket.timeout):
        return Said(NO_ANSWER, seconds=f"{settings.timeout_s:g}")
    if isinstance(error, ssl.SSLCertVerificationError):
        return Said(UNTRUSTED, why=error.verify_message)
    if isinstance(error, ssl.SSLError):
        return Said(TLS_FAILED, why=error.reason or error)
    if isinstance(error, socket.gaierror):
        return Said(UNKNOWN_HOST, host=settings.host)
    if isinstance(error, StreamClosed):
        return Said(CLOSED)
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
