"""The gettext translator both screens share: the kiosk's and the central server's pages each
load their own catalogues (their own domain and locale folder) through it.

Message ids are the English text; every catalogue translates every one, so English wording can
be changed without touching code. `setup.sh` compiles the `.po` files to `.mo` with msgfmt.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from common.errors import KioskError
from common.marks import N_ as N_  # re-exported: one marker for every translation

LANGUAGES = ("zh_CN", "en")  # Chinese first, English second, on the kiosk and the pages


class Translator:
    """The catalogues of `domain` in `locale_dir`, loaded once; `tr(language, msgid, **args)`
    picks one. A missing compiled catalogue raises `missing_error` (the owner's error class)."""

    missing_error: type[KioskError] = KioskError

    def __init__(self, domain: str, locale_dir: Path) -> None:
        self._catalogues: dict[str, gettext.GNUTranslations] = {}
        for language in LANGUAGES:
            try:
                self._catalogues[language] = gettext.translation(
                    domain, localedir=str(locale_dir), languages=[language])
            except OSError:
                raise self.missing_error(
                    f"no compiled translations for {language} in {locale_dir}: "
                    "run ./setup.sh deps (it compiles the .po files with msgfmt)") from None

    def tr(self, language: str, msgid: str, **args: object) -> str:
        text = self._catalogues[language].gettext(msgid)
        return text.format(**args) if args else text
