"""Search the e-books from an on-screen keyboard: pinyin initials, pinyin, author, ISBN digits.

Results follow every key. The query lives in the core's view; this screen only draws it,
asks the catalogue, and sends what was typed.
"""

from __future__ import annotations

from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.core import events as ev
from kiosk.ui.screens.base import KioskScreen

KEY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


class EbookSearchScreen(KioskScreen):
    library = ObjectProperty(None)
    query = StringProperty("")
    results = ListProperty([])  # RecycleView data
    hint = StringProperty("")
    page = NumericProperty(60)  # result rows drawn; the hint says how many matched in all
    key_rows = KEY_ROWS
    _hint_lang = ""

    def on_kv_post(self, _base) -> None:
        from kivy.factory import Factory
        from kivy.uix.boxlayout import BoxLayout
        for number, row in enumerate(KEY_ROWS):
            line = BoxLayout(spacing=4)
            for key in row:
                button = Factory.KeyButton(text=key)
                button.bind(on_release=lambda _b, k=key: self.press(k))
                line.add_widget(button)
            if number == len(KEY_ROWS) - 1:
                erase = Factory.KeyButton(text="←", size_hint_x=1.6, tint=(0.55, 0.35, 0.2, 1))
                erase.bind(on_release=lambda _b: self.backspace())
                wipe = Factory.KeyButton(text="×", size_hint_x=1.2, tint=(0.55, 0.35, 0.2, 1))
                wipe.bind(on_release=lambda _b: self.clear())
                line.add_widget(erase)
                line.add_widget(wipe)
            self.ids.keyboard.add_widget(line)

    def show(self, view) -> None:
        super().show(view)
        query = view.ebooks.query
        if query != self.query or not self.hint or view.language != self._hint_lang:
            self.query = query
            self._search(query, view.language)

    def press(self, key: str) -> None:
        self.send(ev.SearchTyped(self.query + key))

    def backspace(self) -> None:
        self.send(ev.SearchTyped(self.query[:-1]))

    def clear(self) -> None:
        self.send(ev.SearchTyped(""))

    def _search(self, query: str, lang: str) -> None:
        page = int(self.page)
        titles = self.library.search(query, page) if self.library and query else []
        self.results = [{"title_id": t.id, "text": f"{t.title}  ·  {t.author}",
                         "send": self.send} for t in titles]
        # Counted only when the page is full: below that the page is every match.
        total = self.library.search_count(query) if len(titles) >= page else len(titles)
        self._hint_lang = lang
        if not query:
            self.hint = self.tr(lang, "Type pinyin initials (hlm for 红楼梦), a name or an ISBN.")
        elif not titles:
            self.hint = self.tr(lang, "Nothing found. Try fewer letters.")
        elif total > len(titles):
            self.hint = self.tr(lang, "{count} found, showing the first {shown}", count=total,
                                shown=len(titles))
        else:
            self.hint = self.tr(lang, "{count} found", count=total)
