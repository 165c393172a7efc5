"""The e-book shelves: new this month, most popular here, and each category, as a cover grid.

The grid is a RecycleView fed plain dicts, so a shelf of hundreds of titles costs only the
covers on screen. Data is rebuilt only when the shelf or the catalogue changes.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from common.categories import CATEGORIES
from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.title_tile import TitleTile
from kiosk.ui.widgets import BigButton

SHELF_NAMES = {"new": N_("New this month"), "popular": N_("Most popular here"),
               "all": N_("All titles")}


class CoverCell(TitleTile, BoxLayout):
    """One title in a grid: its cover and its name; a tap opens its page."""
    # The cover shows the title whole, so its caption may end in "…" (kiosk.ui.layout_check).
    captions_cut_short = True


class ShelfButton(BigButton):
    key = StringProperty("")
    chosen = BooleanProperty(False)
    send = ObjectProperty(None)

    @staticmethod
    def text_width(text: str, font_size: float) -> float:
        """About how wide the text draws: sized from it, not from the texture, which the
        button's own text wrapping would make a loop of."""
        return font_size * sum(1.0 if ord(c) > 0x2E80 else 0.58 for c in text)


class EbooksScreen(KioskScreen):
    library = ObjectProperty(None)
    covers_cache = ObjectProperty(None)
    shelves = ListProperty([])  # [{"key", "text", "chosen"}]
    covers = ListProperty([])  # RecycleView data
    empty_text = StringProperty("")
    _shown: tuple | None = None

    def show(self, view) -> None:
        super().show(view)
        if self.library is None:
            return
        key = (view.ebooks.shelf, view.language, self.library.version, self.manager
               and self.manager.current == self.name)
        if key != self._shown:
            self._shown = key
            self._fill(view.ebooks.shelf, view.language)

    def on_shelves(self, _instance, shelves) -> None:
        box = self.ids.shelves
        box.clear_widgets()
        for shelf in shelves:  # ten or so buttons, not a long list
            box.add_widget(ShelfButton(key=shelf["key"], text=shelf["text"],
                                               chosen=shelf["chosen"], send=self.send))

    def _fill(self, shelf: str, lang: str) -> None:
        names = [(key, self.tr(lang, name)) for key, name in SHELF_NAMES.items()]
        zh = lang == "zh_CN"
        names += [(key, f"{CATEGORIES[key][0 if zh else 1]} {count}")
                  for key, count in self.library.categories() if key in CATEGORIES]
        self.shelves = [{"key": key, "text": text, "chosen": key == shelf} for key, text in names]
        titles = self.library.shelf(shelf)
        self.ids.grid.scroll_y = 1  # a new shelf starts at its top
        # "covers" first: the grid sets a cell's properties in this order.
        self.covers = [{"covers": self.covers_cache, "title_id": t.id, "text": t.title,
                        "cover": self.library.path(t.cover), "send": self.send} for t in titles]
        if not self.library.available:
            self.empty_text = self.tr(lang, "The e-book catalogue is not installed yet.")
        elif not titles:
            self.empty_text = self.tr(lang, "No titles on this shelf yet.")
        else:
            self.empty_text = ""
