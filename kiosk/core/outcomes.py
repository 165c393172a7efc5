"""The circulation's words for where things stand: identify steps, line states, outcomes and
reasons. `StrEnum`s whose values are what the journal keeps and the upload sends (docs/upload.md):
they never change."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """Where identifying the patron stands on the identify screen."""
    CARD = "card"  # waiting for a card
    PIN = "pin"  # waiting for the patron's PIN
    CHECKING = "checking"  # the ILS is being asked


class IdentifyMessage(StrEnum):
    """What the identify screen (or the account screen) says went wrong."""
    NOT_SET_UP = "not_set_up"  # no ILS is configured
    UNAVAILABLE = "unavailable"  # the ILS cannot be reached
    ILS_ERROR = "ils_error"
    UNKNOWN_CARD = "unknown_card"
    WRONG_PIN = "wrong_pin"
    PIN_LOCKED = "pin_locked"
    CARD_LENGTH = "card_length"  # a typed number of the wrong length: never sent to the ILS
    CARD_INVALID = "card_invalid"  # a typed number that cannot be a card (prefix, check digit)


class Service(StrEnum):
    """Whether circulation works here now."""
    OK = "ok"
    OFFLINE = "offline"  # the ILS is away; transactions are accepted offline
    UNAVAILABLE = "unavailable"  # the ILS is away, and offline mode is off
    NOT_SET_UP = "not_set_up"


class Printing(StrEnum):
    """The receipt's printing."""
    NONE = "none"  # no printer, or receipt = "never"
    OFFERED = "offered"
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"


class LineStatus(StrEnum):
    BUSY = "busy"  # with the ILS, the offline store or the pad
    OK = "ok"
    OFFLINE = "offline"  # accepted by the offline store, confirmed when the ILS is back
    REFUSED = "refused"
    STAFF = "staff"  # staff must look at it (its `reason` says why)
    LISTED = "listed"  # a loan on the account screen


class Transaction(StrEnum):
    """What a transaction does: its journal kind, its intent's operation, its offline record."""
    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    RENEW = "renew"


class Outcome(StrEnum):
    """A transaction that happened (its journal outcome); one that did not ends in a `Reason`."""
    OK = "ok"
    OFFLINE = "offline"


class Reason(StrEnum):
    """Why a book was not lent, returned or renewed: a line's reason, the transaction's journal
    outcome (written to the journal and uploaded: the values never change) and the key of its
    words in `circulation_text.REASONS`."""
    BLOCKED = "blocked"
    ON_HOLD = "on_hold"
    NOT_FOR_LOAN = "not_for_loan"
    UNKNOWN_ITEM = "unknown_item"
    ON_LOAN = "on_loan"
    INCOMPLETE_SET = "incomplete_set"
    UNREADABLE_TAG = "unreadable_tag"
    SECURITY_FAILED = "security_failed"
    ILS_REFUSED = "ils_refused"
    ILS_ERROR = "ils_error"
    ILS_UNAVAILABLE = "ils_unavailable"
    OFFLINE_LIMIT = "offline_limit"
    OFFLINE_FAILED = "offline_failed"
    OFFLINE_NOT_LENDABLE = "offline_not_lendable"
    UNKNOWN = "unknown"  # the ILS's answer was lost and it could not be asked
    OWN_LOAN = "own_loan"  # already on loan to this patron: renewing is what they can do


class NextAction(StrEnum):
    """The one thing a patron is asked to do about a book that was not lent or returned (or a
    card that cannot borrow): a button (`RENEW`) or a few words."""
    RENEW = "renew"  # the book is already theirs: renew it here
    STAFF = "staff"  # hand the book to staff
    SEE_STAFF = "see_staff"  # see staff before leaving (the book may be gone with its alarm on)
    DESK = "desk"  # go to the service desk (the card, not a book)
    ADD_PARTS = "add_parts"  # put all of the item's parts on the pad
    READ_HERE = "read_here"  # for use in the library only
    LATER = "later"  # try again when the library system is back
    NONE = "none"  # nothing to do (e.g. their own loan when renewing is blocked)


TransactionOutcome = Outcome | Reason
