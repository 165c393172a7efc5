"""The kiosk's requests as SIP2 messages, with the server quirks of `IlsSettings`: pure.

Required fields are always sent, even empty (AC, AO); optional ones are left out when empty
unless `empty_fields = "send"`; the nb due date is 18 blanks or the transaction date.
"""

from __future__ import annotations

from datetime import datetime

from kiosk.sip2.codec import BLANK_DATE, Message, message, sip_date
from kiosk.sip2.fields import REQUIRED, summary_for
from kiosk.sip2.settings import IlsSettings

LANGUAGE = "000"           # "unknown": the ILS answers in its own default
MAX_PRINT_WIDTH = "040"    # receipt printers are 32 or 42 columns wide
PROTOCOL = "2.00"
LIST_END = "9999"          # BQ: ask for every charged item, not the server's first page


def _fields(settings: IlsSettings, code: str, pairs) -> tuple[tuple[str, str], ...]:
    keep = []
    for tag, value in pairs:
        if value is None:
            continue
        if value == "" and tag not in REQUIRED[code] and settings.empty_fields == "omit":
            continue
        keep.append((tag, value))
    return tuple(keep)


def _nb_due(settings: IlsSettings, transaction_date: str) -> str:
    return transaction_date if settings.no_due_date == "transaction_date" else BLANK_DATE


def login(settings: IlsSettings) -> Message:
    return message("93", {"uid_algorithm": "0", "pwd_algorithm": "0"}, _fields(
        settings, "93", [("CN", settings.username), ("CO", settings.password),
                         ("CP", settings.location)]))


def sc_status() -> Message:
    return message("99", {"status_code": "0", "max_print_width": MAX_PRINT_WIDTH,
                          "protocol_version": PROTOCOL})


def resend() -> Message:
    return message("97")


def patron_information(settings: IlsSettings, patron_id: str, pin: str | None,
                       now: datetime, wanted: str = "AU") -> Message:
    """63 asking for one list: the charged items (AU) by default, what the kiosk shows and the
    lost-reply check needs; the holds ready (AS) for the patron's summary. SIP2 allows one list
    per request; the counts come with every reply."""
    return message("63", {"language": LANGUAGE, "transaction_date": sip_date(now),
                          "summary": summary_for(wanted)}, _fields(
        settings, "63", [("AO", settings.institution), ("AA", patron_id),
                         ("AC", settings.terminal_password), ("AD", pin),
                         ("BP", "1"), ("BQ", LIST_END)]))


def patron_status(settings: IlsSettings, patron_id: str, pin: str | None,
                  now: datetime) -> Message:
    return message("23", {"language": LANGUAGE, "transaction_date": sip_date(now)}, _fields(
        settings, "23", [("AO", settings.institution), ("AA", patron_id),
                         ("AC", settings.terminal_password), ("AD", pin or "")]))


def item_information(settings: IlsSettings, item_id: str, now: datetime) -> Message:
    return message("17", {"transaction_date": sip_date(now)}, _fields(
        settings, "17", [("AO", settings.institution), ("AB", item_id),
                         ("AC", settings.terminal_password)]))


def checkout(settings: IlsSettings, patron_id: str, item_id: str, pin: str | None, *,
             no_block: bool, when: datetime) -> Message:
    date = sip_date(when)
    return message("11", {"sc_renewal_policy": "N", "no_block": "Y" if no_block else "N",
                          "transaction_date": date, "nb_due_date": _nb_due(settings, date)},
                   _fields(settings, "11", [
                       ("AO", settings.institution), ("AA", patron_id), ("AB", item_id),
                       ("AC", settings.terminal_password), ("AD", pin)]))


def checkin(settings: IlsSettings, item_id: str, *, no_block: bool, when: datetime) -> Message:
    date = sip_date(when)
    return message("09", {"no_block": "Y" if no_block else "N", "transaction_date": date,
                          "return_date": date}, _fields(settings, "09", [
        ("AP", settings.location), ("AO", settings.institution), ("AB", item_id),
        ("AC", settings.terminal_password)]))


def renew(settings: IlsSettings, patron_id: str, item_id: str, pin: str | None,
          now: datetime) -> Message:
    date = sip_date(now)
    return message("29", {"third_party_allowed": "N", "no_block": "N", "transaction_date": date,
                          "nb_due_date": _nb_due(settings, date)}, _fields(settings, "29", [
        ("AO", settings.institution), ("AA", patron_id), ("AD", pin), ("AB", item_id),
        ("AC", settings.terminal_password)]))


def end_session(settings: IlsSettings, patron_id: str, now: datetime) -> Message:
    return message("35", {"transaction_date": sip_date(now)}, _fields(
        settings, "35", [("AO", settings.institution), ("AA", patron_id),
                         ("AC", settings.terminal_password)]))
