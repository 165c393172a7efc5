"""A title a patron can touch: its cover, read from the cover cache as the tile shows it, and a
tap that opens its page. Shared by the shelves' grid and the search's result rows."""

from __future__ import annotations

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior

from kiosk.core import events as ev


class TitleTile(ButtonBehavior):
    """Mixed into a layout. Grids and lists reuse tiles as they scroll, so a cover arriving for
    a tile that has moved on to another title is dropped."""
    title_id = StringProperty("")
    cover = StringProperty("")
    text = StringProperty("")
    send = ObjectProperty(None)
    covers = ObjectProperty(None)  # the app's CoverCache
    texture = ObjectProperty(None, allownone=True)

    def on_cover(self, _instance, path: str) -> None:
        self.texture = self.covers.get(path, self._arrived) if self.covers else None

    def _arrived(self, path: str, texture) -> None:
        if path == self.cover:
            self.texture = texture

    def on_release(self) -> None:
        if self.send:
            self.send(ev.OpenTitle(self.title_id))
