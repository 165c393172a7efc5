"""What every kiosk screen has: the core's view, the language, translations, a way to send."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    view = ObjectProperty(None, allownone=True)
    lang = StringProperty("zh_CN")
    translator = ObjectProperty(None)
    send = ObjectProperty(None)  # callable taking a core event

    def tr(self, lang: str, msgid: str, **args: object) -> str:
        """Translate; kv passes `root.lang` so the text follows the language switch."""
        return self.translator.tr(lang, msgid, **args) if self.translator else msgid

    @staticmethod
    def other_language(lang: str) -> str:
        """The language the switch offers: the one not showing."""
        return "en" if lang == "zh_CN" else "zh_CN"

    def show(self, view) -> None:
        self.view = view
        self.lang = view.language
