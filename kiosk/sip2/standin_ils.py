"""The test ILS's answers: one SIP2 request in, one reply out, against an `IlsData`. Pure
apart from the data it changes; `Sip2TestServer` calls it under its lock.

It is strict the way real servers are: `problems()` lists what a fussy server rejects (a
malformed fixed field, a missing required field, an empty optional one, 18 blanks for a date
when `blank_dates_ok` is off), and the loan rules refuse what a library would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from kiosk.sip2.codec import BLANK_DATE, Message, message, parse_datetime, sip_date
from kiosk.sip2.fields import BX_CODES, CIRCULATION_CODES, REQUIRED, bx_field, patron_status_flags
from kiosk.sip2.standin_data import IlsData, Item, Loan, Patron

# Blocks that stop a checkout (the others only stop renewals, holds or recalls).
CHARGE_BLOCKS = {"charge_denied", "card_lost", "too_many_charged", "too_many_overdue",
                 "too_many_claims", "too_many_lost", "excessive_fines", "excessive_fees",
                 "recall_overdue", "too_many_billed"}
IMPLEMENTED = frozenset({"23", "11", "09", "99", "97", "93", "63", "35", "17", "29"})

_FLAG = re.compile(r"^[YN]$")
_DATE = re.compile(r"^\d{8}[ A-Z0-9]{4}\d{6}$")
_FORMATS = {"uid_algorithm": re.compile(r"^.$"), "pwd_algorithm": re.compile(r"^.$"),
            "status_code": re.compile(r"^[012]$"), "max_print_width": re.compile(r"^\d{3}$"),
            "protocol_version": re.compile(r"^\d\.\d\d$"), "language": re.compile(r"^\d{3}$"),
            "summary": re.compile(r"^[ Y]{10}$")}


def problems(request: Message, *, blank_dates_ok: bool = True) -> list[str]:
    """What a strict server finds wrong in a request (empty: nothing)."""
    found = []
    for name, value in request.fixed:
        if name in ("transaction_date", "return_date", "nb_due_date"):
            blank_ok = name == "nb_due_date" and blank_dates_ok
            if not (_DATE.match(value) or (blank_ok and value == BLANK_DATE)):
                found.append(f"{request.code}: {name} {value!r} is not a SIP2 date")
        elif name in _FORMATS:
            if not _FORMATS[name].match(value):
                found.append(f"{request.code}: {name} {value!r} is malformed")
        elif not _FLAG.match(value):
            found.append(f"{request.code}: {name} {value!r} must be Y or N")
    if request.code == "63" and request.get("summary").count("Y") > 1:
        found.append("63: the summary asks for more than one list")
    for tag in REQUIRED.get(request.code, ()):
        if not request.has(tag):
            found.append(f"{request.code}: required field {tag} is missing")
    seen = set()
    for tag, value in request.fields:
        if tag in seen:
            found.append(f"{request.code}: field {tag} appears twice")
        seen.add(tag)
        if value == "" and tag not in REQUIRED.get(request.code, ()):
            found.append(f"{request.code}: optional field {tag} is sent empty")
    return found


class PinCheck(StrEnum):
    """When a patron reply (64, 24) carries CQ, "PIN valid"."""
    WHEN_SENT = "when_sent"  # only when the request carries AD, as SIPServer (Koha,
                             # Evergreen) does: no CQ says nothing about the PIN
    ALWAYS = "always"        # always: without AD, Y only for a patron who has no PIN


@dataclass(frozen=True)
class ScPolicy:
    """What the SC status (98) says is allowed. Like SIPServer's `<policy>` in its config,
    it is only reported: checkouts and checkins work whatever it says."""
    checkin: bool = True
    checkout: bool = True
    online: bool = True


class Library:
    """Answers requests from `data`; `supported` is what 98's BX admits to."""

    def __init__(self, data: IlsData, *, supported: frozenset[str] = IMPLEMENTED,
                 today: Callable[[], date] = date.today,
                 pin_check: PinCheck = PinCheck.WHEN_SENT,
                 policy: ScPolicy = ScPolicy()) -> None:
        self.data = data
        self.supported = supported
        self.pin_check = PinCheck(pin_check)
        self.policy = policy
        self._today = today

    def login(self, username: str, password: str) -> bool:
        return self.data.accounts.get(username) == password and username != ""

    def answer(self, request: Message) -> Message:
        handler = {"99": self._status, "63": self._patron_information, "23": self._patron_status,
                   "17": self._item, "11": self._checkout, "09": self._checkin,
                   "29": self._renew, "35": self._end_session}[request.code]
        return handler(request)

    # --- replies ------------------------------------------------------------------------

    def _status(self, request: Message) -> Message:
        policy = self.policy
        return message("98", {
            "online": _flag(policy.online), "checkin_ok": _flag(policy.checkin),
            "checkout_ok": _flag(policy.checkout),
            "renewal_policy": "Y" if "29" in self.supported else "N", "status_update_ok": "N",
            "offline_ok": "Y", "timeout_period": "030", "retries_allowed": "003",
            "date_time_sync": self._now(), "protocol_version": "2.00"},
            [("AO", self.data.institution), ("AM", self.data.library_name),
             ("BX", bx_field(self.supported & set(BX_CODES)))])

    def _patron_information(self, request: Message) -> Message:
        patron, valid = self._patron(request)
        loans = self._loans_of(patron)
        today = self._today()
        lists = {"AS": [i.barcode for i in self._holds_ready(patron)],
                 "AT": [loan.item for loan in loans if loan.due < today],
                 "AU": [loan.item for loan in loans]}
        fixed = {"patron_status": patron_status_flags(patron.blocks if patron else ()),
                 "language": "000", "transaction_date": self._now(),
                 "hold_count": f"{len(lists['AS']):04d}",
                 "overdue_count": f"{len(lists['AT']):04d}",
                 "charged_count": f"{len(lists['AU']):04d}",
                 "fine_count": "0001" if patron and _amount(patron.fines) else "0000",
                 "recall_count": "0000", "unavailable_holds_count": "0000"}
        fields = self._patron_fields(request, patron, valid)
        wanted = request.get("summary").find("Y")
        if patron and 0 <= wanted < 3:
            start, end = _range(request.first("BP"), request.first("BQ"))
            tag = ("AS", "AT", "AU")[wanted]
            fields += [(tag, entry) for entry in lists[tag][start - 1:end]]
        if patron and patron.email:
            fields.append(("BE", patron.email))
        return message("64", fixed, fields)

    def _patron_status(self, request: Message) -> Message:
        patron, valid = self._patron(request)
        return message("24", {"patron_status": patron_status_flags(patron.blocks if patron else ()),
                              "language": "000", "transaction_date": self._now()},
                       self._patron_fields(request, patron, valid))

    def _patron_fields(self, request: Message, patron: Patron | None,
                       pin_ok: bool | None) -> list[tuple[str, str]]:
        fields = [("AO", self.data.institution), ("AA", request.first("AA")),
                  ("AE", patron.name if patron else ""), ("BL", "Y" if patron else "N")]
        if pin_ok is None and patron and self.pin_check is PinCheck.ALWAYS:
            pin_ok = not patron.pin
        if pin_ok is not None:
            fields.append(("CQ", "Y" if pin_ok else "N"))
        if patron and _amount(patron.fines):
            fields += [("BH", self.data.rules.currency), ("BV", patron.fines)]
        if patron is None:
            fields.append(("AF", "读者证无效 Unknown patron"))
        return fields

    def _item(self, request: Message) -> Message:
        item = self.data.items.get(request.first("AB"))
        fields = [("AB", request.first("AB")), ("AJ", item.title if item else "")]
        if item is None:
            return message("18", {"circulation_status": CIRCULATION_CODES["other"],
                                  "security_marker": "00", "fee_type": "01",
                                  "transaction_date": self._now()},
                           fields + [("AF", "没有这本书 Unknown item")])
        loan = self.data.loans.get(item.barcode)
        if loan:
            status = "charged"
            fields.append(("AH", _due_text(loan.due)))
        else:
            status = "waiting_on_hold_shelf" if item.on_hold_for else item.status
        fields += [("CF", "1" if item.on_hold_for else "0"), ("CK", item.media_type),
                   ("AQ", item.location)]
        if item.parts > 1:
            fields.append(("AF", _parts_message(item)))
        return message("18", {"circulation_status": CIRCULATION_CODES[status],
                              "security_marker": "02", "fee_type": "01",
                              "transaction_date": self._now()}, fields)

    def _checkout(self, request: Message) -> Message:
        patron, pin_ok = self._patron(request)
        item = self.data.items.get(request.first("AB"))
        no_block = request.get("no_block") == "Y"
        refusal = self._checkout_refusal(patron, pin_ok, item, no_block)
        fields = [("AO", self.data.institution), ("AA", request.first("AA")),
                  ("AB", request.first("AB")), ("AJ", item.title if item else "")]
        if refusal or patron is None or item is None:  # the refusal names a missing one
            return message("12", {"ok": "0", "renewal_ok": "N", "magnetic_media": "N",
                                  "desensitize": "N", "transaction_date": self._now()},
                           fields + [("AH", ""), ("AF", refusal)])
        # An offline checkout replayed later is due from the day it was made.
        made = parse_datetime(request.get("transaction_date")) if no_block else None
        due = (made.date() if made else self._today()) + timedelta(days=self.data.rules.loan_days)
        self.data.loans[item.barcode] = Loan(patron.barcode, item.barcode, due)
        if item.on_hold_for == patron.barcode:
            item.on_hold_for = ""
        fields.append(("AH", _due_text(due)))
        if item.parts > 1:
            fields.append(("AF", _parts_message(item)))
        return message("12", {"ok": "1", "renewal_ok": "N",
                              "magnetic_media": "Y" if item.media_type in ("006", "009") else "N",
                              "desensitize": "Y", "transaction_date": self._now()}, fields)

    def _checkout_refusal(self, patron: Patron | None, pin_ok: bool | None, item: Item | None,
                          no_block: bool) -> str:
        if patron is None:
            return "读者证无效 Unknown patron"
        if pin_ok is False:
            return "密码错误 Wrong PIN"
        if item is None:
            return "没有这本书 Unknown item"
        loan = self.data.loans.get(item.barcode)
        if loan is not None:
            if loan.patron == patron.barcode:
                return "您已借了这本书 You already have this item"
            return "这本书已被借出 This item is on loan to another patron"
        if no_block:
            return ""  # accepted offline by the kiosk: the library honours it
        if set(patron.blocks) & CHARGE_BLOCKS:
            return "借阅受限，请到服务台 Borrowing is blocked: please see staff"
        if item.not_for_loan:
            return "此书仅供馆内阅读 Not for loan: reading room only"
        if item.on_hold_for and item.on_hold_for != patron.barcode:
            return "此书已被其他读者预约 On hold for another patron"
        if item.status not in ("available", "waiting_reshelving"):
            return f"此书暂不能外借 Not available ({item.status})"
        if len(self._loans_of(patron)) >= self.data.rules.max_loans:
            return "已达借阅上限 You have reached the loan limit"
        return ""

    def _checkin(self, request: Message) -> Message:
        item = self.data.items.get(request.first("AB"))
        fields = [("AO", self.data.institution), ("AB", request.first("AB")),
                  ("AQ", item.location if item else ""), ("AJ", item.title if item else "")]
        fixed = {"ok": "0", "resensitize": "N", "magnetic_media": "N", "alert": "N",
                 "transaction_date": self._now()}
        if item is None:
            return message("10", {**fixed, "alert": "Y"},
                           fields + [("CV", "99"), ("AF", "没有这本书，请交给工作人员 "
                                                         "Unknown item: please hand it to staff")])
        loan = self.data.loans.pop(item.barcode, None)
        if loan is None:
            return message("10", fixed,
                           fields + [("AF", "此书未被借出 This item was not on loan")])
        fixed.update(ok="1", resensitize="Y",
                     magnetic_media="Y" if item.media_type in ("006", "009") else "N")
        fields.append(("AA", loan.patron))
        if item.on_hold_for:
            fixed["alert"] = "Y"
            fields += [("CV", "01"), ("CL", "HOLD"),
                       ("AF", "此书有预约，请交给工作人员 "
                              "On hold: please hand it to staff")]
        elif item.alert:
            fixed["alert"] = "Y"
            fields += [("CV", item.alert), ("CL", item.sort_bin),
                       ("AF", "请交给工作人员 Please hand it to staff")]
        elif item.sort_bin:
            fields.append(("CL", item.sort_bin))
        return message("10", fixed, fields)

    def _renew(self, request: Message) -> Message:
        patron, pin_ok = self._patron(request)
        item = self.data.items.get(request.first("AB"))
        loan = self.data.loans.get(request.first("AB"))
        refusal = ""
        if patron is None:
            refusal = "读者证无效 Unknown patron"
        elif pin_ok is False:
            refusal = "密码错误 Wrong PIN"
        elif loan is None or item is None or loan.patron != patron.barcode:
            refusal = "您没有借这本书 You do not have this item on loan"
        elif "renewal_denied" in patron.blocks:
            refusal = "续借受限，请到服务台 Renewals are blocked: please see staff"
        elif item.on_hold_for:
            refusal = "此书已被其他读者预约 On hold for another patron"
        elif loan.renewals >= self.data.rules.max_renewals:
            refusal = "已达续借次数上限 No renewals left"
        fields = [("AO", self.data.institution), ("AA", request.first("AA")),
                  ("AB", request.first("AB")), ("AJ", item.title if item else "")]
        if refusal or loan is None:  # no loan is refused above
            return message("30", {"ok": "0", "renewal_ok": "N", "magnetic_media": "N",
                                  "desensitize": "N", "transaction_date": self._now()},
                           fields + [("AH", _due_text(loan.due) if loan else ""), ("AF", refusal)])
        loan.due = max(loan.due, self._today()) + timedelta(days=self.data.rules.renewal_days)
        loan.renewals += 1
        return message("30", {"ok": "1", "renewal_ok": "Y", "magnetic_media": "N",
                              "desensitize": "N", "transaction_date": self._now()},
                       fields + [("AH", _due_text(loan.due))])

    def _end_session(self, request: Message) -> Message:
        return message("36", {"end_session": "Y", "transaction_date": self._now()},
                       [("AO", self.data.institution), ("AA", request.first("AA"))])

    # --- helpers ------------------------------------------------------------------------

    def _patron(self, request: Message) -> tuple[Patron | None, bool | None]:
        """The patron, and whether the PIN fits (None when none was sent)."""
        patron = self.data.patrons.get(request.first("AA"))
        if patron is None or not request.first("AD"):
            return patron, None
        return patron, not patron.pin or request.first("AD") == patron.pin

    def _loans_of(self, patron: Patron | None) -> list[Loan]:
        if patron is None:
            return []
        return [loan for loan in self.data.loans.values() if loan.patron == patron.barcode]

    def _holds_ready(self, patron: Patron | None) -> list[Item]:
        if patron is None:
            return []
        return [item for item in self.data.items.values()
                if item.on_hold_for == patron.barcode and item.barcode not in self.data.loans]

    def _now(self) -> str:
        return sip_date(datetime.now())


def _flag(value: bool) -> str:
    return "Y" if value else "N"


def _due_text(due: date) -> str:
    return sip_date(datetime.combine(due, time(23, 59, 59)))


def _parts_message(item: Item) -> str:
    return f"本书共 {item.parts} 件 This item has {item.parts} parts"


def _amount(text: str) -> bool:
    try:
        return bool(text) and Decimal(text) > 0
    except InvalidOperation:
        return True


def _range(start: str, end: str) -> tuple[int, int]:
    # isascii: str.isdigit() also takes '²', which int() refuses.
    first = int(start) if start.isascii() and start.isdigit() and int(start) > 0 else 1
    # No end, or not a number: one page, as SIP2 servers list by default.
    last = int(end) if end.isascii() and end.isdigit() else first + 9
    return first, last

