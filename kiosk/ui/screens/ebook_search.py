"""Search the e-books from an on-screen keyboard: pinyin initials, pinyin, author, ISBN digits.

Results follow every key, each row with its cover. The query lives in the core's view; this
screen only draws it, asks the catalogue, and sends what was typed: from its own keys or from a
USB keyboard (the app hands those over, kiosk.ui.keys). Latin letters are the Chinese input:
the catalogue matches pinyin and its initials, so the keyboard says so rather than carry an
IME (where the results will be, and in the bar that takes the hidden keyboard's place). The
keyboard can be hidden to give the results its room; the search field (the header's title) or
the bar brings it back.
"""

from __future__ import annotations

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout

from content.catalogue import COUNT_CAP
from kiosk.core import events as ev
from kiosk.core.events import Screen
from kiosk.i18n import N_
from kiosk.ui.keys import SearchKey, search_key, typed_text
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.title_tile import TitleTile
from kiosk.ui.widgets import HeadingLabel

ERASE, CLEAR, TO_DIGITS, TO_LETTERS, HIDE = "←", "×", "123", "abc", "hide"
LETTERS, DIGITS = "abcdefghijklmnopqrstuvwxyz", "1234567890"
QWERTY_COLUMNS = 10
SPECIAL_KEYS = (ERASE, CLEAR, TO_DIGITS, TO_LETTERS, HIDE)
KEY_WORDS = {HIDE: N_("Hide")}  # keys that show a word, not their own character
INPUT_HINT = N_("Type pinyin or initials")


def key_rows(columns: int, digits: bool = False) -> list[list[str]]:
    """The keyboard's rows for `columns` finger-wide keys across the screen. Ten or more (a
    landscape screen): QWERTY in three rows, the first of them digits while `digits` (a fourth
    row would leave no room for the results), the key that hides the keyboard where the
    second row has room. Fewer (portrait): the letters in order, then the digits on rows of
    their own, `columns` to a row."""
    if columns >= QWERTY_COLUMNS:
        first = DIGITS if digits else "qwertyuiop"
        return [list(first), [*"asdfghjkl", HIDE],
                [*"zxcvbnm", ERASE, CLEAR, TO_LETTERS if digits else TO_DIGITS]]
    columns = max(1, columns)

    def flow(keys: list[str]) -> list[list[str]]:
        return [keys[i:i + columns] for i in range(0, len(keys), columns)]
    return flow([*LETTERS, ERASE, CLEAR, HIDE]) + flow(list(DIGITS))


class ResultRow(TitleTile, BoxLayout):
    """One title found: its cover (a drawn placeholder until it is decoded, or when it has
    none) and its name and author; a tap opens its page. The RecycleView makes rows only for
    those on screen, so covers are read only for rows in sight."""
    initial = StringProperty("")  # the placeholder's character: the title's first


class EbookSearchScreen(KioskScreen):
    library = ObjectProperty(None)
    covers_cache = ObjectProperty(None)
    query = StringProperty("")
    results = ListProperty([])  # RecycleView data
    hint = StringProperty("")
    page = NumericProperty(60)  # result rows drawn; the hint says how many matched in all
    count_cap = NumericProperty(COUNT_CAP)  # past it (counted at each key): "more than"
    _hint_lang = ""
    _keys_lang = ""
    key_row_count = NumericProperty(3)
    digits = BooleanProperty(False)  # the landscape keyboard's first row shows digits
    keyboard_shown = BooleanProperty(True)  # hidden: the results take its room
    search_field: HeadingLabel  # the header's title, set once the header is built
    heading = StringProperty("")  # the header's title: the query, and the count where it fits
    count_line = StringProperty("")  # the count on a line of its own where the header has no
    # room for it whole (a portrait panel, a long query)

    def on_kv_post(self, _base) -> None:
        self._build_keys()
        # The header's title is the search field: a tap there brings the keyboard back.
        self.search_field = next(w for w in reversed(self.ids.header.children)
                                 if isinstance(w, HeadingLabel))
        self.search_field.bind(on_touch_down=self._field_touched, width=self._place_count)
        self.bind(query=self._place_count, hint=self._place_count, results=self._place_count)

    def _place_count(self, *_args) -> None:
        """The count beside the query in the header where it shows whole there, else on its
        own line above the rows: never cut short."""
        with_count = f"{self.query}  ·  {self.hint}"
        if not (self.query and self.results):
            self.heading, self.count_line = self.query, ""
        elif self.search_field.fits(with_count):
            self.heading, self.count_line = with_count, ""
        else:
            self.heading, self.count_line = self.query, self.hint

    def _build_keys(self) -> None:
        from kivy.core.window import Window
        from kivy.factory import Factory

        from kiosk.ui.typescale import PX
        rows = key_rows(int(Window.width // (PX["target"] + PX["gap"])), self.digits)
        self.key_row_count = len(rows)
        self._keys_lang = self.lang
        keyboard = self.ids.keyboard
        keyboard.clear_widgets()
        for row in rows:
            line = BoxLayout(spacing=PX["gap"] / 2)
            for key in row:
                words = KEY_WORDS.get(key)
                button = Factory.KeyButton(text=self.tr(self.lang, words) if words else key)
                if key in SPECIAL_KEYS:
                    button.tint = (0.55, 0.35, 0.2, 1)
                button.bind(on_release=lambda _b, k=key: self.key(k))
                line.add_widget(button)
            keyboard.add_widget(line)

    def key(self, key: str) -> None:
        if key == ERASE:
            self.backspace()
        elif key == CLEAR:
            self.clear()
        elif key == HIDE:
            self.keyboard_shown = False
        elif key in (TO_DIGITS, TO_LETTERS):
            self.digits = key == TO_DIGITS
            self._build_keys()
        else:
            self.press(key)

    # --- a USB keyboard, handed over by the app -------------------------------------------

    def typed(self, text: str) -> None:
        text = typed_text(text)
        if text:
            self.press(text)

    def hardware_key(self, key: int, modifiers) -> None:
        edit = search_key(key, modifiers)
        if edit is SearchKey.ERASE:
            self.backspace()
        elif edit is SearchKey.CLEAR:
            self.clear()
        elif edit is SearchKey.DONE:
            self.keyboard_shown = False
            self.send(ev.Touch())  # the patron is there, as a tap on the hide key tells

    def _field_touched(self, field, touch) -> bool:
        if self.keyboard_shown or not field.collide_point(*touch.pos):
            return False
        self.keyboard_shown = True
        return True

    # --- the core's view ------------------------------------------------------------------

    def show(self, view) -> None:
        super().show(view)
        if view.screen not in (Screen.EBOOK_SEARCH, Screen.EBOOK_TITLE):
            self.keyboard_shown = True  # a search starts with the keys out; a title and back
            # keeps them as they were
        if view.language != self._keys_lang:
            self._build_keys()  # the hide key's word
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
        # "covers" first: the view sets a row's properties in this order.
        self.results = [{"covers": self.covers_cache, "title_id": t.id,
                         "text": f"{t.title}  ·  {t.author}", "initial": t.title[:1],
                         "cover": self.library.path(t.cover) if t.cover else "",
                         "send": self.send} for t in titles]
        # Counted only when the page is full: below that the page is every match.
        found = self.library.found(query, int(self.count_cap)) if len(titles) >= page else None
        total = len(titles) if found is None else found.titles
        self._hint_lang = lang
        if not query:
            # Latin letters are the Chinese input: said where the results will be.
            self.hint = (f"{self.tr(lang, INPUT_HINT)}\n"
                         f"{self.tr(lang, 'Titles, authors and ISBNs are all found.')}")
        elif not titles:
            self.hint = self.tr(lang, "Nothing found. Try fewer letters.")
        elif found is not None and found.more:  # counting stopped at the cap: never a wrong
            # number, "more than" the cap
            self.hint = self.tr(lang, "More than {count} found, showing the first {shown}",
                                count=total, shown=len(titles))
        elif total > len(titles):
            self.hint = self.tr(lang, "{count} found, showing the first {shown}", count=total,
                                shown=len(titles))
        else:
            self.hint = self.tr(lang, "{count} found", count=total)
