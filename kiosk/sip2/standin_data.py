"""The test ILS's library: patrons, items, loans and loan rules read from a TOML file.

Shipped code (the demo runs on it), not test code. `kiosk/demo/ils.toml` is the demo's
library and documents the format. The state changes as the test server lends and returns;
`Sip2TestServer` holds its lock around every change.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from kiosk.errors import KioskError
from kiosk.sip2.fields import BLOCK_KEYS, CIRCULATION_CODES


class IlsDataError(KioskError, ValueError):
    """The test ILS's data file cannot be used; the message names the entry."""


@dataclass(frozen=True)
class LoanRules:
    loan_days: int = 30
    renewal_days: int = 30
    max_loans: int = 10
    max_renewals: int = 2
    currency: str = "CNY"


@dataclass
class Patron:
    barcode: str
    name: str
    pin: str = ""                      # "" accepts any PIN
    email: str = ""
    blocks: tuple[str, ...] = ()       # fields.BLOCK_KEYS
    fines: str = ""                    # e.g. "25.00"


@dataclass
class Item:
    barcode: str
    title: str
    author: str = ""
    status: str = "available"          # a fields.CIRCULATION key, when not on loan
    media_type: str = "001"            # SIP2 CK: 001 book, 009 book with CD, ...
    location: str = ""                 # AQ, the shelf it belongs to
    sort_bin: str = ""                 # CL on checkin
    alert: str = ""                    # CV on checkin ("04": send to another library)
    parts: int = 1                     # a book with a CD has 2
    not_for_loan: bool = False
    on_hold_for: str = ""              # a patron barcode: it waits on the hold shelf for them


@dataclass
class Loan:
    patron: str
    item: str
    due: date
    renewals: int = 0


@dataclass
class IlsData:
    institution: str = ""
    library_name: str = ""
    accounts: dict[str, str] = field(default_factory=dict)   # SIP2 login -> password
    rules: LoanRules = field(default_factory=LoanRules)
    patrons: dict[str, Patron] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    loans: dict[str, Loan] = field(default_factory=dict)     # item barcode -> loan

    @classmethod
    def load(cls, path: str | Path, *, today: date | None = None) -> IlsData:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise IlsDataError(f"{path}: cannot read: {e}") from None
        return cls.from_toml(text, where=str(path), today=today)

    @classmethod
    def from_toml(cls, text: str, *, where: str = "ils data", today: date | None = None) -> IlsData:
        """Loans give `due_in_days` (negative: overdue), so the file never goes stale."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise IlsDataError(f"{where}: not valid TOML: {e}") from None
        today = today or date.today()
        _only(doc, {"library", "account", "rules", "patron", "item", "loan"}, where)
        library = _table(doc.get("library", {}), {"institution", "name"}, f"{where} [library]")
        data = cls(institution=str(library.get("institution", "")),
                   library_name=str(library.get("name", "")))
        for n, entry in enumerate(doc.get("account", []), 1):
            entry = _table(entry, {"username", "password"}, f"{where} [[account]] #{n}")
            data.accounts[str(entry["username"])] = str(entry.get("password", ""))
        try:
            rules = _table(doc.get("rules", {}), set(LoanRules.__dataclass_fields__),
                           f"{where} [rules]")
            data.rules = LoanRules(**rules)
        except TypeError as e:
            raise IlsDataError(f"{where} [rules]: {e}") from None
        for n, entry in enumerate(doc.get("patron", []), 1):
            patron = _build(Patron, entry, f"{where} [[patron]] #{n}")
            patron.blocks = tuple(patron.blocks)
            unknown = set(patron.blocks) - set(BLOCK_KEYS)
            if unknown:
                raise IlsDataError(f"{where} [[patron]] {patron.barcode}: unknown blocks "
                                   f"{sorted(unknown)}; known: {', '.join(BLOCK_KEYS)}")
            data.patrons[patron.barcode] = patron
        for n, entry in enumerate(doc.get("item", []), 1):
            item = _build(Item, entry, f"{where} [[item]] #{n}")
            if item.status not in CIRCULATION_CODES or item.status in ("charged", "charged_recall"):
                raise IlsDataError(f"{where} [[item]] {item.barcode}: status {item.status!r} is "
                                   "not allowed (loans go in [[loan]])")
            if item.on_hold_for and item.on_hold_for not in data.patrons:
                raise IlsDataError(f"{where} [[item]] {item.barcode}: on_hold_for names no patron")
            data.items[item.barcode] = item
        for n, entry in enumerate(doc.get("loan", []), 1):
            entry = _table(entry, {"patron", "item", "due_in_days", "renewals"},
                           f"{where} [[loan]] #{n}")
            borrower, barcode = str(entry.get("patron", "")), str(entry.get("item", ""))
            if borrower not in data.patrons or barcode not in data.items:
                raise IlsDataError(f"{where} [[loan]] #{n}: patron and item must be listed above")
            due = today + timedelta(days=int(entry.get("due_in_days", 14)))
            data.loans[barcode] = Loan(borrower, barcode, due, int(entry.get("renewals", 0)))
        return data


def _only(doc: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(doc) - allowed
    if unknown:
        raise IlsDataError(f"{where}: unknown {', '.join(sorted(unknown))}; allowed: "
                           f"{', '.join(sorted(allowed))}")


def _table(entry: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise IlsDataError(f"{where}: must be a table")
    _only(entry, allowed, where)
    return entry


_Record = TypeVar("_Record", Patron, Item)


def _build(cls: type[_Record], entry: Any, where: str) -> _Record:
    names = set(cls.__dataclass_fields__)
    entry = _table(entry, names, where)
    for key, value in entry.items():
        kind = _KINDS[cls.__dataclass_fields__[key].type]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise IlsDataError(f"{where}: {key} must be {_KIND_NAMES[kind]} (got {value!r})")
    try:
        return cls(**entry)
    except TypeError as e:
        raise IlsDataError(f"{where}: {e}") from None


# By a field's annotation: its text here (postponed annotations), or a type where evaluated.
_KINDS: dict[str | type, type] = {"str": str, "int": int, "bool": bool, "tuple[str, ...]": list}
_KIND_NAMES = {str: "a string", int: "a whole number", bool: "true or false", list: "a list"}
