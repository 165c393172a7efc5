"""Translations from the gettext catalogues in kiosk/locale (zh_CN first, en second), through the
translator common/translator.py gives every deployable.

Message ids are the English text; both catalogues translate every one, so English wording can be
changed without touching code. `setup.sh` compiles the `.po` files to `.mo` with msgfmt.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

from common import translator
from common.marks import N_ as N_  # one marker for the core and the runtime side
from common.translator import LANGUAGES as LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "kiosk"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")

# Where a command line's language comes from, in gettext's order: the first one set wins.
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")


def language_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """The catalogue for a command line's locale: zh_CN for any Chinese one (zh_CN.UTF-8,
    zh_CN, zh_Hans, zh), en for anything else or none."""
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable)
        if value:
            code = value.split(".")[0].split("@")[0].replace("-", "_")
            return "zh_CN" if code.split("_")[0].lower() == "zh" else "en"
    return "en"


class Translator(translator.Translator):
    """Both catalogues, loaded once; `tr(language, msgid, **args)` picks one."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        super().__init__(DOMAIN, locale_dir)

    def date_time(self, language: str, when: dt.datetime) -> tuple[str, str]:
        """(date, time) for the attract screen, in the language's own order."""
        date = self.tr(language, "{weekday}, {day} {month} {year}",
                       weekday=self.tr(language, WEEKDAYS[when.weekday()]),
                       day=when.day, month=self.tr(language, MONTHS[when.month - 1]),
                       year=when.year)
        return date, when.strftime("%H:%M")
