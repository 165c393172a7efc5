"""What a scanned code is: a patron card, a library item, a cover's ISBN/EAN, a phone e-card.

    classify(data, symbology, rules) -> "patron" | "item" | "isbn" | "ecard" | "unknown"

The library's own codes are told apart by prefix, length and check digit (`BarcodeRules`).
An EAN-13 on a cover names a title, not a copy, so a valid EAN is never taken for an item:
when the scanner says EAN/UPC, or says nothing, the EAN check comes before the library's rules.
When it names another symbology (Codabar, Code 39...), that is a label, not a cover, and only
the rules apply. Pure functions; no state, no threads.
"""

from __future__ import annotations

from drivers.settings import BarcodeRules

KINDS = ("item", "patron", "isbn", "ecard", "unknown")
EAN_SYMBOLOGIES = ("ean13", "ean13+addon", "ean8", "ean-addon")
QR_SYMBOLOGIES = ("qr",)
UNSAID = (None, "other")  # the scanner did not say, or said "other" (Bookland as ISBN-10, say)


def classify(data: str, symbology: str | None, rules: BarcodeRules) -> str:
    if symbology in QR_SYMBOLOGIES or any(data.startswith(p) for p in rules.ecard_prefixes):
        return "ecard"
    if symbology in EAN_SYMBOLOGIES:
        return "isbn" if _cover_code(data, symbology) else "unknown"
    if symbology in UNSAID and is_ean13(data):
        return "isbn"
    kind = _library_kind(data, rules)
    if kind:
        return kind
    if symbology in UNSAID and is_isbn10(data):
        return "isbn"
    return "unknown"


def luhn_ok(code: str) -> bool:
    """Mod 10 (Luhn) over the whole code, its check digit (the last) included."""
    if not code.isascii() or not code.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(code)):
        digit = int(char)
        if position % 2:  # every second digit from the right, the check digit not doubled
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_ean13(code: str) -> bool:
    """13 digits with a correct EAN check digit (weights 1 and 3 from the left)."""
    return len(code) == 13 and _ean_ok(code)


def is_isbn10(code: str) -> bool:
    """9 digits and a check character (0-9 or X) making sum(weight 10..1 * digit) % 11 == 0."""
    if len(code) != 10 or not code[:9].isascii() or not code[:9].isdigit():
        return False
    check = code[9].upper()
    if check != "X" and not (check.isascii() and check.isdigit()):
        return False
    values = [int(c) for c in code[:9]] + [10 if check == "X" else int(check)]
    return sum(weight * value for weight, value in zip(range(10, 0, -1), values)) % 11 == 0


def _ean_ok(code: str) -> bool:
    if not code.isascii() or not code.isdigit():
        return False
    # Weights run 3, 1, 3, ... leftwards from the digit before the check digit.
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(reversed(code)))
    return total % 10 == 0


def _cover_code(data: str, symbology: str) -> bool:
    if symbology == "ean13+addon":
        return len(data) in (15, 18) and is_ean13(data[:13])
    if len(data) == 12:  # UPC-A, when the scanner sends it without the leading 0
        return _ean_ok(data)
    return is_ean13(data)


def _library_kind(data: str, rules: BarcodeRules) -> str | None:
    if rules.length and len(data) != rules.length:
        return None
    if rules.check_digit == "luhn" and not luhn_ok(data):
        return None
    best, kind = -1, None
    for candidate, prefixes in (("patron", rules.patron_prefixes), ("item", rules.item_prefixes)):
        for prefix in prefixes:
            if data.startswith(prefix) and len(prefix) > best:  # the longest prefix wins
                best, kind = len(prefix), candidate
    return kind
