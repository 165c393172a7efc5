"""The web pages' and reports' text, from the gettext catalogues in central/locale.

Chinese first, English second, as on the kiosk. Message ids are the English text; templates
call `t(msgid, **args)` and Python marks ids with `N_()`. `setup.sh` compiles the `.po` files.
"""

from __future__ import annotations

import gettext
from pathlib import Path

from central.errors import CentralError

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "central"
LANGUAGES = ("zh_CN", "en")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-Hans", "en": "en"}


def N_(message: str) -> str:
    """Marks a message id for the catalogue test without translating it here."""
    return message


class Translator:
    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._catalogues: dict[str, gettext.GNUTranslations] = {}
        for language in LANGUAGES:
            try:
                self._catalogues[language] = gettext.translation(
                    DOMAIN, localedir=str(locale_dir), languages=[language])
            except OSError:
                raise CentralError(
                    f"no compiled translations for {language} in {locale_dir}: "
                    "run ./setup.sh deps (it compiles the .po files with msgfmt)") from None

    def tr(self, language: str, msgid: str, **args: object) -> str:
        text = self._catalogues[language].gettext(msgid)
        return text.format(**args) if args else text

    def bound(self, language: str):
        """`t(msgid, **args)` in one language, for a template."""
        return lambda msgid, **args: self.tr(language, msgid, **args)
