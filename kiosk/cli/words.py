"""The `kiosk` command's words in the technician's language, chosen once from the locale
(kiosk.i18n.language_from_environment): its own text through `_`, the checks' Messages through
`say`, and argparse's own words ("usage:", "options:", its errors) through the same catalogue,
so that help and errors read in one language. Machine-readable output never comes through here.

Without compiled catalogues (before ./setup.sh deps) everything stays English: `kiosk doctor`
must still run then, to say that they are missing.
"""

from __future__ import annotations

import argparse
import unicodedata
from functools import cache

from kiosk.errors import KioskError
from kiosk.i18n import N_, Translator, language_from_environment
from kiosk.status import Message

# What argparse asks gettext for (Python 3.11), listed so that the catalogue test sees them.
ARGPARSE_WORDS = (
    N_("usage: "), N_("options"), N_("positional arguments"),
    N_("show this help message and exit"), N_("show program's version number and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"), N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"), N_("expected one argument"),
    N_("expected at least one argument"), N_("expected at most one argument"),
    N_("expected %s argument"), N_("expected %s arguments"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"), N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
)


@cache
def _translator() -> Translator | None:
    try:
        return Translator()
    except KioskError:
        return None


def language() -> str:
    return language_from_environment()


def _(msgid: str, **args: object) -> str:
    """`msgid` in the technician's language, its {fields} filled from `args`."""
    translator = _translator()
    if translator is None:
        return msgid.format(**args) if args else msgid
    return translator.tr(language(), msgid, **args)


def say(message: Message) -> str:
    """A check's summary or advice (kiosk.status.Message) in the technician's language."""
    return _(message.msgid, **message.args)


def speak_to_argparse() -> None:
    """argparse takes its words from gettext's global domain, which would choose a language by
    itself and has no Chinese: give it ours, so that one choice holds everywhere."""
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: _(one if n == 1 else many)  # type: ignore[attr-defined]


def width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns` screen columns (never cut)."""
    return text + " " * max(0, columns - width(text))
