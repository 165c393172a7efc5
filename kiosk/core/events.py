"""What the core hears (events) and what it asks the outside to do (effects).

Events from drivers (`drivers.events.BarcodeRead`, `DeviceStatus`) arrive on the same path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk.core.ils_calls import IlsRequest, IlsResult
from kiosk.core.outcomes import NextAction, Reason, Transaction
from kiosk.core.receipt_data import Receipt


class Screen(StrEnum):
    ATTRACT = "attract"
    HOME = "home"
    BORROW = "borrow"
    RETURN = "return"
    EBOOKS = "ebooks"
    EBOOK_SEARCH = "ebook_search"
    EBOOK_TITLE = "ebook_title"
    ACCOUNT = "account"
    IDENTIFY = "identify"
    RECEIPT = "receipt"
    ADMIN_PIN = "admin_pin"
    ADMIN = "admin"
    OUT_OF_SERVICE = "out_of_service"
    BLOCKED = "blocked"  # the full-screen stop of a card that cannot borrow
    GOODBYE = "goodbye"  # a few seconds of thanks (and "take your card") as a session ends


# The circulation services on the home screen, and every screen of their journeys.
CIRCULATION = frozenset({Screen.BORROW, Screen.RETURN, Screen.ACCOUNT})
CIRCULATION_SCREENS = frozenset({*CIRCULATION, Screen.IDENTIFY, Screen.RECEIPT, Screen.BLOCKED})
# Where no session runs and the next patron's touch, card or book opens one.
WELCOMING = frozenset({Screen.ATTRACT, Screen.GOODBYE})
EBOOK_SCREENS = frozenset({Screen.EBOOKS, Screen.EBOOK_SEARCH, Screen.EBOOK_TITLE})


# --- events from the screen ---------------------------------------------------------------

@dataclass(frozen=True)
class Touch:
    """Any touch anywhere: the patron is still there."""


@dataclass(frozen=True)
class Start:
    """The attract screen was touched."""


@dataclass(frozen=True)
class Navigate:
    to: Screen


@dataclass(frozen=True)
class EndSession:
    """The patron pressed Finish."""


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SetAccessible:
    """The accessibility button: larger text, higher contrast, slower timeouts, everything
    spoken, for this session (on the attract screen it opens one)."""
    on: bool


@dataclass(frozen=True)
class AdminGesture:
    """The long press in the corner that asks for the staff PIN."""


@dataclass(frozen=True)
class PinSubmitted:
    pin: str = field(repr=False)  # never in a log line


@dataclass(frozen=True)
class ShowShelf:
    """Browse one shelf of e-books: "new", "popular" or a category key."""
    shelf: str


@dataclass(frozen=True)
class OpenSearch:
    pass


@dataclass(frozen=True)
class SearchTyped:
    """The search text as it stands after a key on the on-screen keyboard."""
    query: str


@dataclass(frozen=True)
class OpenTitle:
    title_id: str


@dataclass(frozen=True)
class QrShown:
    """The title page drew its download QR code, or could not (`outcome` says why)."""
    title_id: str
    outcome: str = "ok"


@dataclass(frozen=True)
class Back:
    """The back button of an e-book screen."""


@dataclass(frozen=True)
class EbookDownloaded:
    """The download server sent a whole file, or refused a link (`outcome` says why). Refusals
    come at most once a minute per reason, `count` of them at once, with no title."""
    title_id: str
    outcome: str
    count: int = 1


@dataclass(frozen=True)
class RefreshStatus:
    pass


@dataclass(frozen=True)
class RestartRequested:
    pass


@dataclass(frozen=True)
class UploadRequested:
    """Staff asked for the counts to go to the central server now, not at the timer's run."""


@dataclass(frozen=True)
class UploadFinished:
    ok: bool
    error: str = ""  # why not, when not ok
    rows: int = 0  # journal rows sent
    counts: int = 0  # the counts they made
    left: int = 0  # rows still unsent, for the next run
    cause: str = ""  # why not, for staff: a kiosk.upload.outcome cause
    status: int = 0  # the central server's HTTP status, when it answered with one
    at: str = ""  # when it ended, "HH:MM" on the kiosk's clock, for staff coming back later


@dataclass(frozen=True)
class StatusArrived:
    report: Any  # kiosk.status.StatusReport


@dataclass(frozen=True)
class CardNumberTyped:
    """A library card number typed on the identify screen's keypad."""
    number: str


@dataclass(frozen=True)
class PatronPinTyped:
    pin: str


@dataclass(frozen=True)
class Renew:
    """Renew one loan on the account screen, or every loan when `item_id` is None."""
    item_id: str | None = None


@dataclass(frozen=True)
class FinishFlow:
    """Done on a borrow, return or account screen: the receipt, then the session ends."""


@dataclass(frozen=True)
class PrintRequested:
    """The receipt screen's Print button (receipt = "ask")."""


# --- events from the runtime's workers ----------------------------------------------------

@dataclass(frozen=True)
class IlsAnswered:
    """The ILS worker carried out an `IlsCall`. `offline`: the ILS could not be reached (the
    request did not go out). `unknown`: the request went out but what the ILS did cannot be
    found out now (`kiosk.sip2.errors.IlsOutcomeUnknown`)."""
    token: int
    result: IlsResult | None
    error: str | None = None
    offline: bool = False
    unknown: bool = False


@dataclass(frozen=True)
class IlsState:
    """The ILS link came up or went away (sent on change only)."""
    online: bool
    detail: str = ""


@dataclass(frozen=True)
class SecurityDone:
    """The pad armed or disarmed one tag; `secured` is the value read back (None: unknown)."""
    token: int
    uid: str
    ok: bool
    secured: bool | None = None
    error: str | None = None


@dataclass(frozen=True)
class OfflineCounts:
    """Transactions waiting in the offline store: this patron's checkouts and all of them."""
    patron_id: str | None
    patron_pending: int
    total_pending: int


@dataclass(frozen=True)
class OfflineRecorded:
    """The offline store kept (or failed to keep) an `OfflineRecord`. `reason`: a refusal the
    patron is told, e.g. an item the ILS refused recently."""
    token: int
    ok: bool
    error: str | None = None
    reason: Reason | None = None


@dataclass(frozen=True)
class OfflineReplayed:
    """The ILS worker sent one stored transaction when the ILS came back: "sent" or "refused"."""
    kind: str
    item_id: str
    patron_id: str | None
    outcome: str
    title: str = ""
    message: str = ""


@dataclass(frozen=True)
class ReceiptPrinted:
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class AcknowledgeOffline:
    """Staff dealt with a transaction the ILS refused on replay (the admin screen's list)."""
    id: int


@dataclass(frozen=True)
class JournalFailed:
    """The journal could not be written (or opened): the kiosk is out of service until it can.
    `cause` is a `kiosk.errors.JOURNAL_CAUSES` name."""
    cause: str
    message: str = ""


@dataclass(frozen=True)
class JournalRestored:
    """Writing works again; the runtime has journaled how long the kiosk was out of service."""
    seconds: float


@dataclass(frozen=True)
class IntentChecked:
    """Staff looked up a transaction whose result was not known and put it right (the admin
    screen's list); `seq` is its intent row."""
    seq: int


@dataclass(frozen=True)
class PinChecked:
    """The PIN worker compared the staff PIN of `CheckPin(token)` with the configured hash."""
    token: int
    ok: bool


@dataclass(frozen=True)
class PinLockoutLoaded:
    """The staff PIN's lockout as kept in the data folder (kiosk.pin_lockout), at start:
    wrong PINs counted so far, and how many seconds of lockout are left (0: none)."""
    failures: int
    locked_for_s: float


@dataclass(frozen=True)
class Tick:
    """Time passed; the idle timer and notices look at the clock."""


# --- effects ------------------------------------------------------------------------------

@dataclass(frozen=True)
class JournalAppend:
    """One journal row. `intent`: the `JournalIntent.key` this row is the outcome of; the row
    settles it unless `settles` is False (a result that is not known yet leaves it open)."""
    kind: str
    outcome: str
    item: str | None = None
    title: str | None = None
    patron: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    intent: int | None = None
    settles: bool = True


@dataclass(frozen=True)
class JournalIntent:
    """Journal that an ILS transaction is about to be sent, before it is. `key` is the core's
    name for it; the `IlsCall` and the outcome's `JournalAppend` carry the same key. An intent
    that cannot be written stops its call: nothing goes to the ILS that the journal lacks."""
    key: int
    operation: Transaction
    item: str
    patron: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GatherStatus:
    """Collect the admin screen's status on a background thread."""


@dataclass(frozen=True)
class CheckPin:
    """Compare a staff PIN with the hash off the UI thread (PBKDF2 takes about half a second
    on a Pi); answered by `PinChecked(token)`."""
    token: int
    pin: str = field(repr=False)
    pin_hash: str = field(repr=False)


@dataclass(frozen=True)
class SavePinLockout:
    """Keep the staff PIN's lockout in the data folder, so a restart allows no new guesses."""
    failures: int
    locked_for_s: float


@dataclass(frozen=True)
class RestartApp:
    pass


@dataclass(frozen=True)
class RunUpload:
    """One upload run (`kiosk upload`), on a worker thread; answered by `UploadFinished`."""


@dataclass(frozen=True)
class IlsCall:
    """Ask the ILS worker to carry out `request` (a `kiosk.core.ils_calls` request); answered
    by `IlsAnswered(token)`. `intent`: the key of the `JournalIntent` that must be on disk
    before this call goes."""
    token: int
    request: IlsRequest
    intent: int | None = None


@dataclass(frozen=True)
class SetSecurity:
    """Arm (`secured`) or disarm one tag through the pad `device`; answered by `SecurityDone`."""
    token: int
    device: str
    uid: str
    secured: bool


@dataclass(frozen=True)
class PrintReceipt:
    """Print `receipt` (rendered by the runtime, in `language`); answered by `ReceiptPrinted`."""
    receipt: Receipt
    language: str


@dataclass(frozen=True)
class CountOffline:
    """How many transactions wait in the offline store; answered by `OfflineCounts`."""
    patron_id: str | None


@dataclass(frozen=True)
class OfflineRecord:
    """Keep a checkout or checkin accepted while the ILS is away; answered by `OfflineRecorded`."""
    kind: Transaction  # a checkout or a checkin
    patron_id: str | None
    item_id: str
    token: int = 0


@dataclass(frozen=True)
class RememberRefusal:
    """The ILS refused this item for a reason of its own (on hold, not for loan...): the
    offline store keeps it, so that it is not lent while the ILS is away."""
    item_id: str
    reason: str


@dataclass(frozen=True)
class SettleIntent:
    """Journal that staff dealt with the intent `seq`, then show the admin lists again."""
    seq: int


@dataclass(frozen=True)
class OfflineAcknowledge:
    """Mark a refused offline transaction as dealt with, then show the admin list again."""
    id: int


# --- effects that tell the patron something (the sound and voice listen to these) ------------
# Each has one meaning; the runtime hands them to its `on_tell` listeners, nothing more.

@dataclass(frozen=True)
class BookRefused:
    """One book was not lent, returned or renewed, now that its reason is known."""
    item_id: str
    title: str
    reason: Reason
    action: NextAction


@dataclass(frozen=True)
class BorrowingBlocked:
    """The card cannot borrow: the full-screen stop is up. `owed`: the ILS's amount ("" if
    none) and its currency; `next_step`: what the card may still do here (None: only Finish)."""
    blocks: tuple[str, ...]
    owed: str
    currency: str
    next_step: Screen | None


@dataclass(frozen=True)
class LeftOnPad:
    """Items the last patron left on the pad are there as this patron starts."""
    count: int


@dataclass(frozen=True)
class SessionClosed:
    """The session ended (`outcome` as journaled): thanks, and "please take your card" when
    the patron used a physical card (`take_card`)."""
    outcome: str
    take_card: bool


TELLING: tuple[type, ...] = (BookRefused, BorrowingBlocked, LeftOnPad, SessionClosed)
