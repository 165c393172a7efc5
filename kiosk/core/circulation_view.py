"""What the circulation flow shows: the settings it runs by, the patron, one line per book, the
receipt. Frozen dataclasses the screens read; `kiosk.core.circulation` makes them."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kiosk.core.events import Screen
from kiosk.core.offline_rules import ItemRule
from kiosk.core.outcomes import (
    IdentifyMessage,
    LineStatus,
    NextAction,
    Printing,
    Reason,
    Service,
    Step,
)
from kiosk.core.receipt_data import Receipt

BORROW_BLOCKS = frozenset({"charge_denied", "card_lost"})  # no checkout is even tried
RENEW_BLOCKS = frozenset({"renewal_denied", "card_lost"})
# Blocks that bringing books back lifts: the blocked stop offers Return for them.
RETURN_LIFTS = frozenset({"too_many_charged", "too_many_overdue", "recall_overdue"})


@dataclass(frozen=True)
class CirculationSettings:
    """The circulation rules. These defaults are the config's too: kiosk.config reads them for
    its [circulation] and [kiosk] options."""
    ils: bool = False  # an ILS is configured ([ils] host)
    pin: str = "auto"  # "yes", "no", or "auto": ask when the ILS says the PIN matters (CQ)
    pin_attempts: int = 3
    receipt: str = "ask"  # "ask", "always", "never": printing, when a printer is configured
    printer: bool = False
    offline: bool = False
    offline_max_items: int = 5  # per patron, pending in the offline store
    offline_max_total: int = 500
    offline_refuse: tuple[ItemRule, ...] = ()  # never lent offline (prefixes, ranges)
    ecard_prefixes: tuple[str, ...] = ("ECARD:",)
    kiosk_id: str = "kiosk-1"
    library_name_zh: str = "醴陵市图书馆"
    library_name_en: str = "Liling City Library"
    # A typed card number's shape: the config's [barcodes] patron_prefixes, length and
    # check_digit, passed by kiosk.core_settings; these defaults are drivers.settings'
    # BarcodeRules' (the core may not import it; tests/test_config_sources.py holds them equal).
    card_prefixes: tuple[str, ...] = ("2",)
    card_length: int = 14  # 0: any length up to card_number.MAX_CARD_DIGITS
    card_luhn: bool = True


@dataclass(frozen=True)
class Line:
    """One book on a borrow, return or account screen."""
    key: str  # the item id, or "tag:<uid>" for a tag that could not be read
    item_id: str
    title: str = ""
    status: LineStatus = LineStatus.BUSY
    reason: Reason | None = None  # why not; the journal outcome
    due: str = ""  # YYYY-MM-DD when the ILS sent a date, else its text
    message: str = ""  # the ILS's own words (AF)
    sort_bin: str = ""
    alert: bool = False  # returned, but staff must take it (a hold, another branch)
    overdue: bool = False
    renewed: bool = False  # account: renewed in this session
    renewal: bool = False  # borrow: it was already this patron's, and was renewed
    action: NextAction | None = None  # refused or staff: the one thing the patron should do

    @property
    def transacted(self) -> bool:
        """It happened in the ILS (or the offline store): it belongs on the receipt."""
        return self.status in (LineStatus.OK, LineStatus.OFFLINE) or \
            self.reason is Reason.SECURITY_FAILED


@dataclass(frozen=True)
class HoldReady:
    """A hold waiting for the patron: the ILS's entry (an item id, or a title from an ILS set
    to send titles) and its title once known ("" while it is looked up, or if it is unknown)."""
    entry: str
    title: str = ""


@dataclass(frozen=True)
class PatronView:
    masked: str
    name: str = ""
    charged: int = 0
    overdue: int = 0
    holds_ready: int = 0
    fines: str = ""
    currency: str = ""
    blocks: tuple[str, ...] = ()
    checked: bool = True  # False: taken while the ILS was away, nothing known of the account
    message: str = ""  # the ILS's own words (AF): said only when no block explains the stop
    holds: tuple[HoldReady, ...] = ()  # the holds ready, when the ILS listed them

    def lent(self, item_id: str) -> PatronView:
        """The account once `item_id` went out to the patron: one loan more, and a hold that
        was waiting for it collected. Counted here, not asked again of the ILS."""
        held = tuple(hold for hold in self.holds if hold.entry != item_id)
        collected = len(self.holds) - len(held)
        return replace(self, charged=self.charged + 1, holds=held,
                       holds_ready=max(0, self.holds_ready - collected))

    @property
    def can_borrow(self) -> bool:
        return not BORROW_BLOCKS & set(self.blocks)

    @property
    def can_renew(self) -> bool:
        return self.checked and not RENEW_BLOCKS & set(self.blocks)

    @property
    def next_step(self) -> Screen | None:
        """What a patron who cannot borrow may still do here: return books when that lifts
        the block (or some are overdue), else look at their loans; nothing for a card reported
        lost (it goes to the desk) or one taken unchecked."""
        if "card_lost" in self.blocks or not self.checked:
            return None
        if RETURN_LIFTS & set(self.blocks) or self.overdue:
            return Screen.RETURN
        return Screen.ACCOUNT if self.charged else None

    @property
    def has_fines(self) -> bool:
        try:
            return float(self.fines.replace(",", "")) > 0
        except ValueError:
            return bool(self.fines.strip())


@dataclass(frozen=True)
class ReceiptView:
    """The receipt as data; the screen renders it (kiosk.receipts) in the view's language, so
    it follows the language switch, and Print prints it in that language too."""
    kind: str  # borrow, return, renew
    receipt: Receipt
    printing: Printing = Printing.NONE


@dataclass(frozen=True)
class CirculationView:
    purpose: Screen = Screen.BORROW  # where identifying leads
    step: Step = Step.CARD  # identify
    message: IdentifyMessage | None = None
    patron: PatronView | None = None
    lines: tuple[Line, ...] = ()
    service: Service = Service.OK
    loading: bool = False  # account: the loans are being fetched
    receipt: ReceiptView | None = None
    left_on_pad: int = 0  # items the last patron left on the pad, shown until lifted
    card_length: int = 0  # the configured length of a card number, for the identify screen

    @property
    def busy(self) -> bool:
        return self.loading or self.step is Step.CHECKING or any(
            line.status is LineStatus.BUSY for line in self.lines)

    @property
    def may_leave(self) -> bool:
        """Back to home loses nothing: no book is in progress and none is done."""
        return not self.busy and not any(
            line.transacted or line.renewed for line in self.lines)
