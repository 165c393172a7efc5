"""The `kiosk` command's words in the technician's language, chosen once from the locale
(kiosk.i18n.language_from_environment): its own text through `_`, the checks' Messages through
`say`, and argparse's own words ("usage:", "options:", its errors) through the same catalogue,
so that help and errors read in one language. Machine-readable output never comes through here.

Without compiled catalogues (before ./setup.sh deps) everything stays English: `kiosk doctor`
must still run then, to say that they are missing.
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from functools import cache

from kiosk.errors import KioskError, Said
from kiosk.i18n import N_, Translator, language_from_environment
from kiosk.status import Message

# A line may break before any wide character, and between words; never before a closing mark
# nor after an opening one.
WRAP_UNITS = re.compile(r"\s+|[\u2e80-\uffef]|[^\s\u2e80-\uffef]+")
NO_BREAK_BEFORE = set("，。、；：？！）》」』”’")
NO_BREAK_AFTER = set("（《「『“‘")

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
        return english(msgid, **args)
    return translator.tr(language(), msgid, **args)


def english(msgid: str, **args: object) -> str:
    """`msgid` as it is, for output that programs read (JSON): never translated."""
    return msgid.format(**args) if args else msgid


def say(message: Message) -> str:
    """A check's summary or advice (kiosk.status.Message) in the technician's language."""
    return _(message.msgid, **message.args)


def error_text(error: BaseException) -> str:
    """An error's message for the technician: in their language when it was raised with a
    Said (kiosk.config, kiosk.ui.boot...), as it is otherwise (the system's own words)."""
    message = error.args[0] if len(error.args) == 1 else None
    return said(message) if isinstance(message, Said) else str(error)


def spoken(message: str) -> str:
    """A module's message (a result's, a report's) in the technician's language when it is a
    Said, as it is otherwise."""
    return said(message) if isinstance(message, Said) else message


def said(message: Said) -> str:
    """A Said in the technician's language, its parts too."""
    fields = {key: said(value) if isinstance(value, Said) else value
              for key, value in message.fields.items()}
    return _(message.msgid, **fields)


def speak_to_argparse() -> None:
    """argparse takes its words from gettext's global domain, which would choose a language by
    itself and has no Chinese: give it ours, so that one choice holds everywhere."""
    argparse._ = _  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: _(one if n == 1 else many)  # type: ignore[attr-defined]


def width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (CJK) characters take two."""
    return sum(map(_columns, text))


def pad(text: str, columns: int) -> str:
    """`text` padded with spaces to `columns` screen columns (never cut)."""
    return text + " " * max(0, columns - width(text))


def wrap(text: str, columns: int) -> list[str]:
    """`text`'s words in lines of at most `columns` screen columns (a longer word stands alone);
    Chinese breaks between any two characters, as it has no spaces."""
    lines: list[str] = []
    line = ""
    for unit in WRAP_UNITS.findall(text.strip()):
        if unit.isspace():
            line += " " if line else ""
        elif line.strip() and width(line + unit) > columns and unit not in NO_BREAK_BEFORE:
            # an opening mark goes down with what it opens
            carried = line[-1] if line[-1] in NO_BREAK_AFTER and len(line) > 1 else ""
            lines.append(line[:len(line) - len(carried)].rstrip())
            line = carried + unit
        else:
            line += unit
    return [*lines, line.rstrip()] if line.strip() else lines


class HelpFormatter(argparse.HelpFormatter):
    """argparse's, with help and descriptions wrapped by screen columns where they hold wide
    characters (argparse counts characters, so Chinese lines ran twice too wide)."""

    def _split_lines(self, text: str, columns: int) -> list[str]:
        if width(text) == len(text):
            return super()._split_lines(text, columns)
        return wrap(" ".join(text.split()), columns)

    def _fill_text(self, text: str, columns: int, indent: str) -> str:
        if width(text) == len(text):
            return super()._fill_text(text, columns, indent)
        return "\n".join(indent + line
                         for line in wrap(" ".join(text.split()), columns - len(indent)))

    def _format_usage(self, usage, actions, groups, prefix) -> str:
        # Continuation lines are indented under the program's name by the prefix's length in
        # characters: "用法：" takes three more columns than that.
        # argparse fits the lines to the terminal by that length too: narrow it by the difference.
        prefix = _("usage: ") if prefix is None else prefix
        extra = width(prefix) - len(prefix)
        self._width -= extra
        try:
            text = super()._format_usage(usage, actions, groups, prefix)
        finally:
            self._width += extra
        return "\n".join(line if n == 0 or not line.startswith(" ") else " " * extra + line
                         for n, line in enumerate(text.split("\n")))


def _columns(character: str) -> int:
    return 2 if unicodedata.east_asian_width(character) in "WF" else 1
