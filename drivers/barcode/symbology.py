"""What a scanner put around the data: AIM symbology identifiers and Codabar start/stop characters.

An AIM identifier (ISO/IEC 15424) is `]` + a code letter + a modifier, sent before the data
when the scanner is set to: `]F0` Codabar, `]A0` Code 39, `]C0` Code 128, `]C1` GS1-128,
`]E0` EAN-13 (UPC-A comes as 13 digits with a leading 0), `]E4` EAN-8, `]Q1` QR, `]d1` Data
Matrix... Codabar's start and stop characters are A-D, or a-d, and some scanners (Datalogic's
"ABCD/TN*E" formats) send T N * E as the stop character instead. Scanners with "CLSI library"
editing on put spaces into 14-digit Codabar labels; they are taken out again.

Pure functions; no state, no threads.
"""

from __future__ import annotations

import re

# Code letter -> name; modifiers that change the name are in _BY_MODIFIER.
_AIM_CODES = {
    "A": "code39", "B": "telepen", "C": "code128", "D": "code-one", "E": "ean13", "F": "codabar",
    "G": "code93", "H": "code11", "I": "itf", "K": "code16k", "L": "pdf417", "M": "msi",
    "N": "anker", "O": "codablock", "P": "plessey", "Q": "qr", "R": "2of5", "S": "2of5",
    "U": "maxicode", "X": "other", "d": "datamatrix", "e": "gs1-databar", "z": "aztec",
}
_BY_MODIFIER = {
    ("C", "1"): "gs1-128",  # FNC1 in the first position
    ("E", "1"): "ean-addon", ("E", "2"): "ean-addon",  # the 2- or 5-digit add-on alone
    ("E", "3"): "ean13+addon",  # EAN-13 (or EAN-8) and its add-on as one string
    ("E", "4"): "ean8",
    ("d", "2"): "gs1-datamatrix", ("d", "5"): "gs1-datamatrix",
}
_AIM = re.compile(r"\]([A-Za-z])([0-9A-Za-z])")
_CODABAR_DATA = r"[0-9\-$:/.+]+"
# Start A-D (either case); stop A-D, or T N * E in the "ABCD/TN*E" formats.
_CODABAR = re.compile(rf"([A-Da-d])({_CODABAR_DATA})([A-Da-dTNEtne*])")
# With the symbology known to be Codabar, T N * E may open a code as well.
_CODABAR_KNOWN = re.compile(rf"([A-Da-dTNEtne*])({_CODABAR_DATA})([A-Da-dTNEtne*])")
# "CLSI library" editing, a scanner option for US libraries: spaces after characters 1, 5 and
# 10 of a 14-digit Codabar label ("3 9990 00019 2148"), start/stop sent or not.
_CLSI = re.compile(r"([A-Da-d]?)(\d) (\d{4}) (\d{5}) (\d{4})([A-Da-dTNEtne*]?)")


def split(raw: str) -> tuple[str, str | None]:
    """(data, symbology) from what the scanner sent; symbology is None when it did not say."""
    symbology = None
    match = _AIM.match(raw)
    if match and match.group(1) in _AIM_CODES:
        code, modifier = match.groups()
        symbology = _BY_MODIFIER.get((code, modifier), _AIM_CODES[code])
        raw = raw[match.end():]
    if symbology in (None, "codabar"):
        clsi = _CLSI.fullmatch(raw)
        if clsi and bool(clsi.group(1)) == bool(clsi.group(6)):
            return "".join(clsi.group(2, 3, 4, 5)), "codabar"
        codabar = (_CODABAR_KNOWN if symbology else _CODABAR).fullmatch(raw)
        if codabar:
            return codabar.group(2), "codabar"
    if symbology == "code39" and len(raw) > 2 and raw[0] == raw[-1] == "*":
        raw = raw[1:-1]  # start/stop asterisks, when the scanner is set to send them
    return raw, symbology
