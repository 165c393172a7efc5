"""The attract screen: the library's name, date and time, covers of new and popular e-books (a
touch on one opens its title), the library's notices in turn, "touch to start" and the
accessibility button; both languages at once.

Main (Kivy) thread. Covers come from the catalogue on this kiosk through the app's cover cache
(kiosk.ui.cover_cache); a title without a readable cover gets a drawn one with its title.
"""

from __future__ import annotations

import datetime as dt

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget

from kiosk.core import events as ev
from kiosk.ui.attract_covers import Cover, CoverPicker, cover_set, grid, notices_on
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.typescale import PX, SIZES

# Drawn covers' backgrounds, picked by title id: dark enough for white text at 7:1.
PLACEHOLDER_TINTS = ((0.16, 0.24, 0.42, 1), (0.35, 0.16, 0.25, 1), (0.12, 0.3, 0.22, 1),
                     (0.32, 0.22, 0.1, 1), (0.22, 0.2, 0.36, 1))
SMALLEST_COVER = 0.6  # of PX["cover"] (the title page's cover): a cover's least height here


class CoverTile(ButtonBehavior, FloatLayout):
    """One cover; a drawn one with the title until (or unless) the picture is read."""
    cover = ObjectProperty(None, allownone=True)
    texture = ObjectProperty(None, allownone=True)
    badge = StringProperty("")  # the words on its corner: "新书 New", "热门 Popular" or ""
    tint = ListProperty(PLACEHOLDER_TINTS[0])
    open_title = ObjectProperty(lambda title_id: None)
    cover_height = NumericProperty(0)  # the picture's place, under the badge
    cover_width = NumericProperty(0)
    badge_shown = StringProperty("")  # the badge's words, Chinese alone when both do not fit

    def on_cover_width(self, *_args) -> None:
        self.on_badge()

    def on_badge(self, *_args) -> None:
        # About 0.6 em a Latin letter, 1 em a Chinese character, and a little to spare.
        zh, _, en = self.badge.partition(" ")
        needs = SIZES["caption"] * (len(zh) + 0.6 * len(en) + 1.5)
        self.badge_shown = self.badge if needs <= self.cover_width else zh

    def show(self, cover: Cover, cache, badge: str) -> None:
        self.cover, self.badge, self.texture = cover, badge, None
        self.tint = PLACEHOLDER_TINTS[sum(map(ord, cover.title_id)) % len(PLACEHOLDER_TINTS)]
        if cache is not None and cover.path:
            self.texture = cache.get(cover.path, self._ready)

    def _ready(self, path: str, texture) -> None:
        if self.cover is not None and self.cover.path == path:
            self.texture = texture

    def on_release(self) -> None:
        if self.cover is not None:
            self.open_title(self.cover.title_id)


class CoverWall(Widget):
    """As many covers as fit, centred; `covers` is the set to show, one per tile."""
    covers = ListProperty([])
    cache = ObjectProperty(None, allownone=True)
    badges = ObjectProperty({})  # badge key -> words on the corner
    open_title = ObjectProperty(lambda title_id: None)
    cells = NumericProperty(0)  # how many covers fit: the screen's sets are this long

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.bind(size=self._lay_out, pos=self._lay_out, covers=self._fill, badges=self._fill)

    def _lay_out(self, *_args) -> None:
        gap = PX["gap"]
        columns, rows, tall = grid(self.width, self.height, PX["cover"] * SMALLEST_COVER, gap)
        wide = tall * 0.75
        self.cells = columns * rows
        while len(self.children) < self.cells:
            self.add_widget(CoverTile(open_title=lambda title_id: self.open_title(title_id)))
        while len(self.children) > self.cells:
            self.remove_widget(self.children[0])
        left = self.x + (self.width - columns * wide - (columns - 1) * gap) / 2
        top = self.top - (self.height - rows * tall - (rows - 1) * gap) / 2
        for i, tile in enumerate(reversed(self.children)):
            row, column = divmod(i, columns)
            tile.size = (wide, tall)
            tile.pos = (left + column * (wide + gap), top - (row + 1) * tall - row * gap)
        self._fill()

    def _fill(self, *_args) -> None:
        for tile, cover in zip(reversed(self.children), [*self.covers, *[None] * self.cells]):
            tile.opacity, tile.disabled = (1, False) if cover else (0, True)
            if cover is not None and cover != tile.cover:
                tile.show(cover, self.cache, self.badges.get(cover.badge, ""))


class AttractScreen(KioskScreen):
    name_zh = StringProperty("")
    name_en = StringProperty("")
    date_zh = StringProperty("")
    date_en = StringProperty("")
    time_text = StringProperty("")
    library = ObjectProperty(None, allownone=True)  # kiosk.ebooks.library.EbookLibrary
    covers_cache = ObjectProperty(None, allownone=True)  # kiosk.ui.cover_cache.CoverCache
    show_covers = BooleanProperty(True)
    cover_s = NumericProperty(8)
    notices = ListProperty([])  # kiosk.config.AttractNotice, as configured
    notice_s = NumericProperty(10)
    # What shows now: the covers in turn and today's notice; kv lays out only what there is.
    pool = ListProperty([])
    shown = ListProperty([])
    notice_zh = StringProperty("")
    notice_en = StringProperty("")
    landscape = BooleanProperty(True)
    stacked = BooleanProperty(False)  # a portrait panel with covers: the columns one above another
    beside = BooleanProperty(False)  # a landscape one with covers: side by side, smaller type

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._picker = CoverPicker(self.library) if self.library is not None else None
        self._timers: list = []
        self._step = self._notice_step = 0

    def on_size(self, *_args) -> None:
        self.landscape = self.width >= self.height
        self.stacked = bool(self.pool) and not self.landscape
        self.beside = bool(self.pool) and self.landscape

    on_pool = on_size

    def on_kv_post(self, *_args) -> None:
        self.on_stacked()

    def on_stacked(self, *_args) -> None:
        """A portrait panel with covers: "touch to start" and the accessibility button go to
        the bottom row, side by side, leaving the covers the height between. A landscape one
        with covers: the button goes up beside the language button, leaving the column beside
        the covers to the name, the time and the invitation; without covers, to the bottom
        corner."""
        ids = self.ids
        if "bottom" not in ids:
            return  # kv is still building the screen; on_kv_post places them
        places = ((ids.invite, ids.bottom if self.stacked else ids.invite_home),
                  (ids.access, ids.bottom if self.stacked else ids.top_row if self.beside
                   else ids.corner if self.landscape else ids.access_home))
        for widget, place in places:
            if widget.parent is not place:
                widget.parent.remove_widget(widget)
                place.add_widget(widget)

    on_beside = on_landscape = on_stacked

    def on_pre_enter(self, *args) -> None:
        self._step = self._notice_step = 0
        self.pool = self._picker.covers() if self._picker and self.show_covers else []
        self._tick(0)
        self._next_cover_set(0)
        self._next_notice(0)
        self._stop()
        self._timers = [Clock.schedule_interval(self._tick, 1.0),
                        Clock.schedule_interval(self._next_cover_set, self.cover_s),
                        Clock.schedule_interval(self._next_notice, self.notice_s)]

    def on_leave(self, *args) -> None:
        self._stop()

    def _stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    def open_title(self, title_id: str) -> None:
        self.send(ev.OpenTitle(title_id))

    def _tick(self, _dt: float) -> None:
        if not self.translator:
            return
        now = dt.datetime.now()
        self.date_zh, self.time_text = self.translator.date_time("zh_CN", now)
        self.date_en, _ = self.translator.date_time("en", now)

    def _next_cover_set(self, _dt: float) -> None:
        cells = int(self.ids.wall.cells) if "wall" in self.ids else 0
        self.shown = cover_set(self.pool, cells, self._step) if cells else []
        self._step += 1

    def wall_resized(self) -> None:
        """The wall's room changed: the set that fits it now."""
        self.shown = cover_set(self.pool, int(self.ids.wall.cells), max(0, self._step - 1))

    def _next_notice(self, _dt: float) -> None:
        today = notices_on(self.notices, dt.date.today().isoformat())
        notice = today[self._notice_step % len(today)] if today else None
        self.notice_zh, self.notice_en = (notice.zh, notice.en) if notice else ("", "")
        self._notice_step += 1
