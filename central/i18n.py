"""The web pages' and reports' text, from the gettext catalogues in central/locale, through the
translator common/translator.py gives every deployable.

Chinese first, English second, as on the kiosk. Message ids are the English text; templates
call `t(msgid, **args)` and Python marks ids with `N_()`. `setup.sh` compiles the `.po` files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from central.errors import CentralError
from common import translator
from common.marks import N_ as N_
from common.translator import LANGUAGES as LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "central"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-Hans", "en": "en"}


class Translator(translator.Translator):
    missing_error = CentralError

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        super().__init__(DOMAIN, locale_dir)

    def bound(self, language: str) -> Callable[..., str]:
        """`t(msgid, **args)` in one language, for a template."""
        return lambda msgid, **args: self.tr(language, msgid, **args)
