"""Search the e-books from an on-screen keyboard: pinyin initials, pinyin, author, ISBN digits.

Results follow every key. The query lives in the core's view; this screen only draws it,
asks the catalogue, and sends what was typed.
"""

from __future__ import annotations

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.core import events as ev
from kiosk.ui.screens.base import KioskScreen

ERASE, CLEAR, TO_DIGITS, TO_LETTERS = "←", "×", "123", "abc"
LETTERS, DIGITS = "abcdefghijklmnopqrstuvwxyz", "1234567890"
QWERTY_COLUMNS = 10


def key_rows(columns: int, digits: bool = False) -> list[list[str]]:
    """The keyboard's rows for `columns` finger-wide keys across the screen. Ten or more (a
    landscape screen): QWERTY in three rows, the first of them digits while `digits` (a fourth
    row would leave no room for the results). Fewer (portrait): the letters in order, then the
    digits on rows of their own, `columns` to a row."""
    if columns >= QWERTY_COLUMNS:
        first = DIGITS if digits else "qwertyuiop"
        return [list(first), list("asdfghjkl"),
                [*"zxcvbnm", ERASE, CLEAR, TO_LETTERS if digits else TO_DIGITS]]
    columns = max(1, columns)

    def flow(keys: list[str]) -> list[list[str]]:
        return [keys[i:i + columns] for i in range(0, len(keys), columns)]
    return flow([*LETTERS, ERASE, CLEAR]) + flow(list(DIGITS))


class EbookSearchScreen(KioskScreen):
    library = ObjectProperty(None)
    query = StringProperty("")
    results = ListProperty([])  # RecycleView data
    hint = StringProperty("")
    page = NumericProperty(60)  # result rows drawn; the hint says how many matched in all
    _hint_lang = ""
    key_row_count = NumericProperty(3)
    digits = BooleanProperty(False)  # the landscape keyboard's first row shows digits

    def on_kv_post(self, _base) -> None:
        self._build_keys()

    def _build_keys(self) -> None:
        from kivy.core.window import Window
        from kivy.factory import Factory
        from kivy.uix.boxlayout import BoxLayout

        from kiosk.ui.typescale import PX
        rows = key_rows(int(Window.width // (PX["target"] + PX["gap"])), self.digits)
        self.key_row_count = len(rows)
        keyboard = self.ids.keyboard
        keyboard.clear_widgets()
        for row in rows:
            line = BoxLayout(spacing=PX["gap"] / 2)
            for key in row:
                button = Factory.KeyButton(text=key)
                if key in (ERASE, CLEAR, TO_DIGITS, TO_LETTERS):
                    button.tint = (0.55, 0.35, 0.2, 1)
                button.bind(on_release=lambda _b, k=key: self.key(k))
                line.add_widget(button)
            keyboard.add_widget(line)

    def key(self, key: str) -> None:
        if key == ERASE:
            self.backspace()
        elif key == CLEAR:
            self.clear()
        elif key in (TO_DIGITS, TO_LETTERS):
            self.digits = key == TO_DIGITS
            self._build_keys()
        else:
            self.press(key)

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
