"""Translations from the gettext catalogues in kiosk/locale (zh_CN first, en second).

Message ids are the English text; both catalogues translate every one, so English wording can be
changed without touching code. `setup.sh` compiles the `.po` files to `.mo` with msgfmt.
"""

from __future__ import annotations

import datetime as dt
import gettext
from pathlib import Path

from kiosk.core.marks import N_ as N_  # one marker for the core and the runtime side
from kiosk.errors import KioskError

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "kiosk"
LANGUAGES = ("zh_CN", "en")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


class Translator:
    """Both catalogues, loaded once; `tr(language, msgid, **args)` picks one."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._catalogues: dict[str, gettext.GNUTranslations] = {}
        for language in LANGUAGES:
            try:
                self._catalogues[language] = gettext.translation(
                    DOMAIN, localedir=str(locale_dir), languages=[language])
            except OSError:
                raise KioskError(
                    f"no compiled translations for {language} in {locale_dir}: "
                    "run ./setup.sh deps (it compiles the .po files with msgfmt)") from None

    def tr(self, language: str, msgid: str, **args: object) -> str:
        text = self._catalogues[language].gettext(msgid)
        return text.format(**args) if args else text

    def date_time(self, language: str, when: dt.datetime) -> tuple[str, str]:
        """(date, time) for the attract screen, in the language's own order."""
        date = self.tr(language, "{weekday}, {day} {month} {year}",
                       weekday=self.tr(language, WEEKDAYS[when.weekday()]),
                       day=when.day, month=self.tr(language, MONTHS[when.month - 1]),
                       year=when.year)
        return date, when.strftime("%H:%M")
