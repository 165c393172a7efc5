"""SIP2 message layouts and the meaning of its flags: pure tables, no I/O.

Fixed fields come first in spec order with their widths; variable fields follow as
`XXvalue|`. `REQUIRED` names the variable fields the spec requires in each request (always
sent, even empty); the others are optional and may be left out when empty.
"""

from __future__ import annotations

DATE = 18  # YYYYMMDDZZZZHHMMSS

FIXED: dict[str, tuple[tuple[str, int], ...]] = {
    "93": (("uid_algorithm", 1), ("pwd_algorithm", 1)),
    "94": (("ok", 1),),
    "99": (("status_code", 1), ("max_print_width", 3), ("protocol_version", 4)),
    "98": (("online", 1), ("checkin_ok", 1), ("checkout_ok", 1), ("renewal_policy", 1),
           ("status_update_ok", 1), ("offline_ok", 1), ("timeout_period", 3),
           ("retries_allowed", 3), ("date_time_sync", DATE), ("protocol_version", 4)),
    "63": (("language", 3), ("transaction_date", DATE), ("summary", 10)),
    "64": (("patron_status", 14), ("language", 3), ("transaction_date", DATE),
           ("hold_count", 4), ("overdue_count", 4), ("charged_count", 4), ("fine_count", 4),
           ("recall_count", 4), ("unavailable_holds_count", 4)),
    "23": (("language", 3), ("transaction_date", DATE)),
    "24": (("patron_status", 14), ("language", 3), ("transaction_date", DATE)),
    "17": (("transaction_date", DATE),),
    "18": (("circulation_status", 2), ("security_marker", 2), ("fee_type", 2),
           ("transaction_date", DATE)),
    "11": (("sc_renewal_policy", 1), ("no_block", 1), ("transaction_date", DATE),
           ("nb_due_date", DATE)),
    "12": (("ok", 1), ("renewal_ok", 1), ("magnetic_media", 1), ("desensitize", 1),
           ("transaction_date", DATE)),
    "09": (("no_block", 1), ("transaction_date", DATE), ("return_date", DATE)),
    "10": (("ok", 1), ("resensitize", 1), ("magnetic_media", 1), ("alert", 1),
           ("transaction_date", DATE)),
    "29": (("third_party_allowed", 1), ("no_block", 1), ("transaction_date", DATE),
           ("nb_due_date", DATE)),
    "30": (("ok", 1), ("renewal_ok", 1), ("magnetic_media", 1), ("desensitize", 1),
           ("transaction_date", DATE)),
    "35": (("transaction_date", DATE),),
    "36": (("end_session", 1), ("transaction_date", DATE)),
    "96": (),
    "97": (),
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "93": ("CN", "CO"),
    "99": (),
    "63": ("AO", "AA"),
    "23": ("AO", "AA", "AC", "AD"),
    "17": ("AO", "AB"),
    "11": ("AO", "AA", "AB", "AC"),
    "09": ("AP", "AO", "AB", "AC"),
    "29": ("AO", "AA"),
    "35": ("AO", "AA"),
    "97": (),
}

# The reply to each request.
REPLY = {"93": "94", "99": "98", "63": "64", "23": "24", "17": "18", "11": "12", "09": "10",
         "29": "30", "35": "36"}

# Patron status: 14 flags, position i set ("Y") means BLOCK_KEYS[i]; spec order.
BLOCK_KEYS = ("charge_denied", "renewal_denied", "recall_denied", "hold_denied", "card_lost",
              "too_many_charged", "too_many_overdue", "too_many_renewals", "too_many_claims",
              "too_many_lost", "excessive_fines", "excessive_fees", "recall_overdue",
              "too_many_billed")

# BX, "supported messages": 16 Y/N positions, in this order.
BX_CODES = ("23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25",
            "15", "29", "65")

# Item circulation status (18's first fixed field).
CIRCULATION = {"01": "other", "02": "on_order", "03": "available", "04": "charged",
               "05": "charged_recall", "06": "in_process", "07": "recalled",
               "08": "waiting_on_hold_shelf", "09": "waiting_reshelving", "10": "in_transit",
               "11": "claimed_returned", "12": "lost", "13": "missing"}
CIRCULATION_CODES = {key: code for code, key in CIRCULATION.items()}

# 63's summary: one "Y" asks for one list of item ids.
SUMMARY_LISTS = ("AS", "AT", "AU", "AV", "BU", "CD")  # holds, overdue, charged, fines, ...

# Variable fields whose value is a secret: never shown in logs or --raw output.
SECRET_FIELDS = ("CO", "AD", "AC")


def block_keys(patron_status: str) -> tuple[str, ...]:
    """The set flags as stable keys, in spec order; "Y" is set, anything else (N, blank) not."""
    return tuple(key for key, flag in zip(BLOCK_KEYS, patron_status) if flag == "Y")


def patron_status_flags(blocks: tuple[str, ...] | list[str]) -> str:
    """The 14-character field for a set of block keys (blank for "not set")."""
    unknown = set(blocks) - set(BLOCK_KEYS)
    if unknown:
        raise ValueError(f"unknown patron blocks {sorted(unknown)}; known: {', '.join(BLOCK_KEYS)}")
    return "".join("Y" if key in blocks else " " for key in BLOCK_KEYS)


def supported_codes(bx: str) -> frozenset[str]:
    """The message codes a BX field marks "Y"; an empty or missing BX means "assume all"."""
    if not bx.strip():
        return frozenset(BX_CODES)
    return frozenset(code for code, flag in zip(BX_CODES, bx) if flag == "Y")


def bx_field(codes) -> str:
    return "".join("Y" if code in codes else "N" for code in BX_CODES)


def summary_for(list_field: str) -> str:
    """63's 10-character summary asking for one list (e.g. "AU", the charged items)."""
    flags = [" "] * 10
    flags[SUMMARY_LISTS.index(list_field)] = "Y"
    return "".join(flags)
