"""Transactions accepted while the ILS was away, kept until the ILS has them, and their replay.

`OfflineStore` owns one SQLite file (`data_dir/offline.sqlite3`, WAL, `synchronous=FULL`): a row
is on disk when `add()` returns. One store may be shared by the app's main thread (which adds
rows and reads the counts for the offline limits) and the ILS worker thread (which replays):
every call takes the store's lock. `replay()` runs on the worker thread.

A checkout cannot be replayed without the patron's number, so a pending row holds it in plain
text; settling the row replaces it with the journal's keyed hash, and `secure_delete` plus a
truncating WAL checkpoint leave the number in no byte of the files.

A send and its settling cannot be one atomic step, so a row is marked "sending" (durably) before
it goes out. A row still "sending" when replay starts was in flight when the kiosk stopped; the
ILS is asked whether it already has it (the patron's charged items for a checkout, the item's
status for a checkin) before it is sent again, so a crash never sends one twice.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from common.masking import mask, mask_numbers_in
from kiosk import private_files
from kiosk.errors import KioskError
from kiosk.journal import patron_key
from kiosk.journal.store import utc_now, utc_text
from kiosk.sqlite_files import OwnFile, open_own

log = logging.getLogger(__name__)

FILE_NAME = "offline.sqlite3"
VERSION = 2  # PRAGMA user_version; 2 added refused_items
APPLICATION_ID = 0x4B4F464C  # "KOFL": tells this file from the journal and any other database
BUSY_TIMEOUT_S = 5.0
KINDS = ("checkout", "checkin")
MAX_UNREADABLE = 3  # replies the ILS sends that cannot be understood, before staff are asked

# Items the ILS refused while online (on hold, not for loan...): not lent offline for a while.
_REFUSED_ITEMS = (
    """CREATE TABLE refused_items (
        item        TEXT PRIMARY KEY,
        reason      TEXT NOT NULL,
        refused_utc TEXT NOT NULL
    )""",
)
_UPGRADES = {1: (*_REFUSED_ITEMS, "PRAGMA user_version = 2")}  # kiosks in the field have 1
_READ_OLDER = {1: ("CREATE TEMP TABLE refused_items (item TEXT PRIMARY KEY, reason TEXT, "
                   "refused_utc TEXT)",)}

_CREATE = (
    f"PRAGMA application_id = {APPLICATION_ID}",
    """CREATE TABLE transactions (
        id            INTEGER PRIMARY KEY,
        kind          TEXT    NOT NULL CHECK (kind IN ('checkout', 'checkin')),
        patron        TEXT,             -- the raw number, only while not settled
        patron_hash   TEXT,             -- the journal's keyed hash, once settled
        patron_masked TEXT    NOT NULL, -- what staff see: '**********4566' or ''
        item          TEXT    NOT NULL CHECK (item <> ''),
        title         TEXT    NOT NULL,
        when_utc      TEXT    NOT NULL,
        journal_seq   INTEGER,
        state         TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'refused')),
        attempts      INTEGER NOT NULL DEFAULT 0,  -- times it was about to go out
        unreadable    INTEGER NOT NULL DEFAULT 0,  -- replies to it that made no sense
        message       TEXT    NOT NULL DEFAULT '',
        settled_utc   TEXT,
        acknowledged_utc TEXT,
        CHECK ((state IN ('pending', 'sending')) = (settled_utc IS NULL)),
        CHECK (state IN ('pending', 'sending') OR patron IS NULL)
    )""",
    "CREATE INDEX transactions_open ON transactions (state, kind, patron)",
    *_REFUSED_ITEMS,
    f"PRAGMA user_version = {VERSION}",
)
_COLUMNS = ("id", "kind", "patron", "patron_masked", "item", "title", "when_utc", "journal_seq",
            "state", "message", "settled_utc", "acknowledged_utc", "attempts")
_OPEN = "('pending', 'sending')"


class OfflineStoreError(KioskError, RuntimeError):
    """The offline store cannot be opened, read or written."""


class OfflineRefused(OfflineStoreError):
    """The item must not be lent offline: the ILS refused it recently."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class OfflineTransaction:
    id: int
    kind: str                   # "checkout" or "checkin"
    patron_id: str | None       # the number while not settled; None afterwards
    patron_masked: str          # "**********4566"; "" for a return made without a card
    item_id: str
    title: str                  # "" when neither the kiosk nor the ILS named it
    when_utc: datetime          # when the patron made it (aware, UTC)
    journal_seq: int | None     # the journal row that recorded it as accepted offline
    state: str                  # "pending", "sending" (in flight), "sent" or "refused"
    message: str                # the ILS's screen message when refused
    settled_utc: datetime | None
    acknowledged: bool          # staff marked a refusal as dealt with
    attempts: int


@dataclass(frozen=True)
class Replayed:
    """One transaction settled by `replay()`, for the caller's journal row and log line."""
    transaction: OfflineTransaction  # as it was before settling (with the patron's number)
    outcome: str                     # "sent" or "refused"
    message: str
    title: str
    recovered: bool                  # the ILS already had it: sent before a crash or lost reply


def store_path(config: Any) -> Path:
    """Where the kiosk keeps its offline store (`config` is a `kiosk.config.Config`)."""
    return config.data_dir / FILE_NAME


def open_for(config: Any) -> OfflineStore:
    """The kiosk's offline store, hashing with the journal's patron key."""
    return OfflineStore(store_path(config), config.patron_key_path,
                        refused_days=config.circulation.offline_refused_days)


class OfflineStore:
    def __init__(self, path: str | Path, key_path: str | Path | None = None, *,
                 create: bool = True, refused_days: int = 0) -> None:
        """Open the store at `path`, creating it when `create`; `key_path` is the journal's
        patron key (default: `patron.key` beside the file). With `create=False` the store only
        reads and acknowledges (for status checks): it cannot add or settle. An item the ILS
        refused within `refused_days` is not taken offline (0: refusals are not kept)."""
        self.path = Path(path)
        self.refused_days = refused_days
        self._lock = threading.Lock()
        if create:
            try:
                private_files.private_folder(self.path.parent)  # 0700: card numbers wait here
            except OSError as e:
                raise OfflineStoreError(
                    f"{self.path.parent}: cannot create the data folder: {e.strerror}") from None
            key_file = Path(key_path) if key_path else self.path.with_name("patron.key")
            self._key: bytes | None = patron_key.load_or_create(key_file,
                                                                error=OfflineStoreError)
        elif not self.path.is_file():
            raise OfflineStoreError(f"{self.path}: no offline store here")
        else:
            self._key = None
        # Autocommit mode, shared by threads under the store's lock.
        self._db = open_own(self.path, _OWN_FILE, create=create, check_same_thread=False)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> OfflineStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------

    def add(self, kind: str, patron_id: str | None, item_id: str, when_utc: datetime,
            journal_seq: int | None = None, *, title: str = "") -> int:
        """Keep one transaction accepted offline; its id once it is safely on disk."""
        if kind not in KINDS:
            raise ValueError(f"offline transaction kind must be one of {KINDS}, not {kind!r}")
        if when_utc.tzinfo is None:
            raise ValueError("when_utc must carry its time zone")
        patron = (patron_id or "").strip() or None
        if kind == "checkout" and patron is None:
            raise ValueError("an offline checkout needs the patron's number")
        if not item_id.strip():
            raise ValueError("an offline transaction needs the item's barcode")
        self._need_key("add")
        with self._lock:
            if kind == "checkout":
                self._refuse_if_refused_lately(item_id.strip())
            cursor = self._write(
                "INSERT INTO transactions (kind, patron, patron_masked, item, title, when_utc, "
                "journal_seq, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                (kind, patron, mask(patron) if patron else "", item_id.strip(), title or "",
                 utc_text(when_utc), journal_seq), f"cannot keep the {kind} of {item_id}")
            row_id = cursor.lastrowid
            assert row_id is not None  # an INSERT that returned sets it
            return row_id

    def mark_sending(self, id: int) -> None:
        """Record that the transaction is about to go to the ILS (see the module's note), and
        count the attempt."""
        with self._lock:
            self._write("UPDATE transactions SET state = 'sending', attempts = attempts + 1 "
                        f"WHERE id = ? AND state IN {_OPEN}", (id,),
                        f"cannot mark transaction {id} as sending")

    def mark_unreadable(self, id: int) -> int:
        """Count a reply about this transaction that could not be understood; the count."""
        with self._lock:
            self._write("UPDATE transactions SET unreadable = unreadable + 1 WHERE id = ?", (id,),
                        f"cannot count the unreadable reply to transaction {id}")
            return self._read("SELECT unreadable FROM transactions WHERE id = ?",
                              (id,)).fetchone()[0]

    def settle(self, id: int, outcome: str, message: str = "", *, title: str = "") -> None:
        """The ILS's verdict: "sent" or "refused" (with its screen message); `title` fills in
        one the kiosk did not know. The patron's number is replaced by its keyed hash and wiped
        from the file."""
        if outcome not in ("sent", "refused"):
            raise ValueError(f"an outcome is 'sent' or 'refused', not {outcome!r}")
        key = self._need_key("settle")
        with self._lock:
            row = self._read("SELECT patron, state FROM transactions WHERE id = ?",
                             (id,)).fetchone()
            if row is None:
                raise OfflineStoreError(f"{self.path}: no offline transaction {id}")
            patron, state = row
            if state not in ("pending", "sending"):
                raise OfflineStoreError(f"{self.path}: transaction {id} is already {state}")
            self._write(
                "UPDATE transactions SET state = ?, message = ?, settled_utc = ?, patron = NULL, "
                "patron_hash = ?, title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?",
                (outcome, message, utc_now(),
                 patron_key.patron_hash(key, patron) if patron else None, title, id),
                f"cannot settle transaction {id}")
            self._wipe_wal()

    def remember_refusal(self, item_id: str, reason: str) -> None:
        """The ILS refused this item (online) for a reason of its own: not lent offline for
        `refused_days`. Old entries are dropped as new ones come."""
        if not self.refused_days:
            return
        cutoff = utc_text(datetime.now(timezone.utc) - timedelta(days=self.refused_days))
        with self._lock:
            self._write("INSERT INTO refused_items (item, reason, refused_utc) VALUES (?, ?, ?) "
                        "ON CONFLICT (item) DO UPDATE SET reason = excluded.reason, "
                        "refused_utc = excluded.refused_utc", (item_id, reason, utc_now()),
                        f"cannot remember the refusal of {item_id}")
            self._write("DELETE FROM refused_items WHERE refused_utc < ?", (cutoff,),
                        "cannot drop old refusals")

    def _refuse_if_refused_lately(self, item_id: str) -> None:
        if not self.refused_days:
            return
        cutoff = utc_text(datetime.now(timezone.utc) - timedelta(days=self.refused_days))
        found = self._read("SELECT reason, refused_utc FROM refused_items WHERE item = ? AND "
                           "refused_utc >= ?", (item_id, cutoff)).fetchone()
        if found:
            raise OfflineRefused(f"{item_id} was refused by the ILS ({found[0]}) on "
                                 f"{found[1][:10]}: not lent while the ILS is away", found[0])

    def acknowledge(self, id: int) -> None:
        """Staff have dealt with a transaction the ILS refused; it leaves `refused()`."""
        with self._lock:
            state = self._read("SELECT state FROM transactions WHERE id = ?", (id,)).fetchone()
            if state is None or state[0] != "refused":
                raise OfflineStoreError(
                    f"{self.path}: transaction {id} is not one the ILS refused")
            self._write("UPDATE transactions SET acknowledged_utc = coalesce(acknowledged_utc, ?) "
                        "WHERE id = ?", (utc_now(), id), f"cannot acknowledge transaction {id}")

    # --- reading --------------------------------------------------------------------------

    def pending(self) -> list[OfflineTransaction]:
        """Not yet settled ("sending" ones included), oldest first: the order to replay in."""
        return self._select(f"state IN {_OPEN}")

    def refused(self) -> list[OfflineTransaction]:
        """What the ILS refused on replay and staff have not yet dealt with, oldest first."""
        return self._select("state = 'refused' AND acknowledged_utc IS NULL")

    def total_pending(self) -> int:
        return self._count(f"state IN {_OPEN}")

    def total_refused(self) -> int:
        return self._count("state = 'refused' AND acknowledged_utc IS NULL")

    def counts(self, patron_id: str) -> int:
        """Checkouts accepted offline for this patron and not yet settled (the offline limit)."""
        return self._count(f"state IN {_OPEN} AND kind = 'checkout' AND patron = ?",
                           (patron_id.strip(),))

    # --- inside ---------------------------------------------------------------------------

    def _need_key(self, action: str) -> bytes:
        if self._key is None:
            raise OfflineStoreError(f"{self.path}: opened for reading; cannot {action}")
        return self._key

    def _select(self, where: str) -> list[OfflineTransaction]:
        with self._lock:
            rows = self._read(f"SELECT {', '.join(_COLUMNS)} FROM transactions WHERE {where} "
                              "ORDER BY when_utc, id").fetchall()
        return [_transaction(row) for row in rows]

    def _count(self, where: str, params: tuple = ()) -> int:
        with self._lock:
            return self._read(f"SELECT count(*) FROM transactions WHERE {where}",
                              params).fetchone()[0]

    def _read(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as e:
            raise OfflineStoreError(f"{self.path}: cannot read: {e}") from e

    def _write(self, sql: str, params: tuple, what: str) -> sqlite3.Cursor:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(sql, params)
            self._db.execute("COMMIT")
        except sqlite3.Error as e:
            try:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the connection itself is broken; the first error is the one to report
            raise OfflineStoreError(f"{self.path}: {what}: {e}") from e
        return cursor

    def _wipe_wal(self) -> None:
        # The WAL still holds the page as it was, number included, until it is checkpointed and
        # truncated; a reader in another process can delay that, so it is retried next settle.
        try:
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as e:
            log.warning("%s: checkpoint after settling failed: %s", self.path, e)
            return
        if busy:
            log.info("%s: a reader delayed the checkpoint; retried after the next settle",
                     self.path)


def _transaction(row: tuple) -> OfflineTransaction:
    named = dict(zip(_COLUMNS, row))
    settled = named["settled_utc"]
    return OfflineTransaction(
        id=named["id"], kind=named["kind"], patron_id=named["patron"],
        patron_masked=named["patron_masked"], item_id=named["item"], title=named["title"],
        when_utc=_parse_utc(named["when_utc"]), journal_seq=named["journal_seq"],
        state=named["state"], message=named["message"],
        settled_utc=_parse_utc(settled) if settled else None,
        acknowledged=named["acknowledged_utc"] is not None, attempts=named["attempts"])


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


_OWN_FILE = OwnFile(
    what="offline store", version=VERSION, create=_CREATE, error=OfflineStoreError,
    unreadable_advice="keep the file, it may hold transactions the ILS does not have yet, and "
                      "ask for support",
    application_id=APPLICATION_ID, busy_timeout_s=BUSY_TIMEOUT_S, upgrades=_UPGRADES,
    read_older=_READ_OLDER,
    pragmas=("secure_delete = ON",))  # freed bytes (old patron numbers) are zeroed


# --- replay ------------------------------------------------------------------------------

def replay(store: OfflineStore, client: Any, on_result: Callable[[Replayed], None]) -> int:
    """Send the pending transactions to the ILS, oldest first, through `client` (a connected
    `kiosk.sip2.client.Sip2Client`), settling each and calling `on_result` after it.

    Returns how many were settled. Stops, leaving the rest pending, when the ILS goes away
    (`IlsUnavailable`) or sends a reply that cannot be understood (`IlsProtocolError`), or
    cannot tell what it did with a transaction whose reply was lost (`IlsOutcomeUnknown`: the
    next replay asks first); after `MAX_UNREADABLE` of those the transaction is settled as
    refused, for staff to look at.
    Other errors (a refused login) propagate; what was not settled stays pending.
    """
    from kiosk.sip2.errors import IlsBadRequest, IlsOutcomeUnknown, IlsProtocolError, IlsUnavailable

    settled = 0
    for tx in store.pending():
        try:
            result = _send(store, client, tx)
        except IlsUnavailable as e:
            log.info("the ILS went away during the offline replay (%s); %d left for later",
                     e, store.total_pending())
            break
        except (IlsProtocolError, IlsOutcomeUnknown) as e:
            if store.mark_unreadable(tx.id) < MAX_UNREADABLE:
                log.warning("offline %s %d: the ILS's reply cannot be understood (%s); "
                            "asked again at the next replay", tx.kind, tx.id, e)
                break
            result = Replayed(tx, "refused", f"the ILS's reply could not be understood: {e}",
                              tx.title, False)
        except IlsBadRequest as e:  # e.g. a barcode with '|': it can never be sent as it is
            result = Replayed(tx, "refused", f"cannot be sent to the ILS: {e}", tx.title, False)
        store.settle(tx.id, result.outcome, result.message, title=result.title)
        log.info("offline %s %d of item %s: %s%s", tx.kind, tx.id, tx.item_id, result.outcome,
                 f" ({mask_numbers_in(result.message)})" if result.message else "")
        settled += 1
        on_result(result)
    return settled


def _send(store: OfflineStore, client: Any, tx: OfflineTransaction) -> Replayed:
    store.mark_sending(tx.id)  # counts this attempt, whatever part of it fails
    if tx.state == "sending":
        done = _already_done(client, tx)
        log.info("offline %s %d was in flight when the replay stopped; the ILS %s it", tx.kind,
                 tx.id, "has" if done else "does not have")
        if done:
            return Replayed(tx, "sent", "", tx.title, True)
    if tx.kind == "checkout":
        result = client.checkout(tx.patron_id, tx.item_id, no_block=True, when=tx.when_utc)
    else:
        result = client.checkin(tx.item_id, no_block=True, when=tx.when_utc)
    title = tx.title or result.title  # what the patron saw; the ILS's when the kiosk had none
    if result.ok:
        return Replayed(tx, "sent", "", title, bool(result.recovered))
    return Replayed(tx, "refused", " ".join(result.screen_message).strip(), title, False)


def _already_done(client: Any, tx: OfflineTransaction) -> bool:
    """Whether the ILS has a transaction that was in flight when the kiosk stopped."""
    from kiosk.sip2.errors import IlsUnsupported
    from kiosk.sip2.outcome import CHARGED, Outcome, checkin_by_item

    try:
        if tx.kind == "checkout":
            charged = client.patron(tx.patron_id).charged
            if charged:  # entries are the barcode, or the barcode and the title
                return any(entry == tx.item_id or entry.startswith(tx.item_id + " ")
                           for entry in charged)
            # No list of charged items (some ILSs send none): the item's own status tells. The
            # book left with this patron, so an item now on loan is taken to be on loan to them.
            return client.item(tx.item_id).circulation in CHARGED
        # Back only for a status that says so; an item the ILS calls "other" or "missing" is
        # sent again, and its answer decides (a checkin done twice returns the book once).
        return checkin_by_item(client.item(tx.item_id)).outcome is Outcome.DONE
    except IlsUnsupported:
        # Nothing to ask with: sent again. A checkout the ILS already has is refused or renewed
        # for the same patron, and a checkin done twice returns the book once.
        return False
