"""The e-book flow: which shelf, what is typed in search, which title is open; its journal rows.

A flow object of `Session` (same rules: pure, the clock passed in). Catalogue queries are not
made here: the screens ask the catalogue for what `view.ebooks` describes. Named apart from
`kiosk/ebooks/` (the library, links and download server the runtime runs).
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.core import events as ev
from kiosk.core.events import EBOOK_SCREENS, Screen
from kiosk.core.flow_port import Effects, Flow, Handlers
from kiosk.core.session_view import EbookView

MAX_QUERY = 40  # characters the on-screen keyboard accepts


class EbookFlow(Flow):
    """Handlers for the e-book events: the shelves, search, a title page, downloads."""

    def handlers(self) -> Handlers:
        return {ev.ShowShelf: self._on_ShowShelf, ev.OpenSearch: self._on_OpenSearch,
                ev.SearchTyped: self._on_SearchTyped, ev.OpenTitle: self._on_OpenTitle,
                ev.QrShown: self._on_QrShown, ev.Back: self._on_Back,
                ev.EbookDownloaded: self._on_EbookDownloaded}

    def _on_ShowShelf(self, event: ev.ShowShelf, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.EBOOKS:
            self.view = replace(self.view, ebooks=replace(self.view.ebooks, shelf=event.shelf))

    def _on_OpenSearch(self, event: ev.OpenSearch, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.EBOOKS:
            self.view = replace(self.view, screen=Screen.EBOOK_SEARCH, notice=None,
                                ebooks=replace(self.view.ebooks, query="", searched=False))

    def _on_SearchTyped(self, event: ev.SearchTyped, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.EBOOK_SEARCH:
            query = event.query[:MAX_QUERY]
            self.view = replace(self.view, ebooks=replace(self.view.ebooks, query=query))

    def _on_OpenTitle(self, event: ev.OpenTitle, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.ATTRACT:  # a cover there: a session, at that title
            self._session.open_session(now)
            self.view = replace(self.view, screen=Screen.EBOOKS)
        screen = self.view.screen
        if screen not in (Screen.EBOOKS, Screen.EBOOK_SEARCH):
            return
        books = replace(self.view.ebooks, title_id=event.title_id, title_from=screen,
                        searched=self.view.ebooks.searched or screen is Screen.EBOOK_SEARCH)
        effects.append(ev.JournalAppend("ebook_view", "ok", item=event.title_id))
        self.view = replace(self.view, screen=Screen.EBOOK_TITLE, ebooks=books, notice=None)

    def _on_QrShown(self, event: ev.QrShown, now: float, effects: Effects) -> None:
        if self.view.screen is Screen.EBOOK_TITLE and event.title_id == self.view.ebooks.title_id:
            effects.append(ev.JournalAppend("ebook_qr", event.outcome, item=event.title_id))

    def _on_Back(self, event: ev.Back, now: float, effects: Effects) -> None:
        screen, books = self.view.screen, self.view.ebooks
        if screen is Screen.EBOOK_TITLE:
            self.view = replace(self.view, screen=books.title_from,
                                ebooks=replace(books, title_id=None))
        elif screen is Screen.EBOOK_SEARCH:
            self._end_search(effects)
            self.view = replace(self.view, screen=Screen.EBOOKS)
        elif screen is Screen.EBOOKS:
            self.view = replace(self.view, screen=Screen.HOME, ebooks=EbookView())

    def _on_EbookDownloaded(self, event: ev.EbookDownloaded, now: float, effects: Effects) -> None:
        # From the download server: a phone, not a patron at the screen. A download is one row;
        # refused links come counted (at most a row a minute per reason), with no title.
        if event.outcome == "ok":
            effects.append(ev.JournalAppend("ebook_download", "ok", item=event.title_id))
        else:
            effects.append(ev.JournalAppend("ebook_download", event.outcome,
                                            item=event.title_id or None,
                                            detail={"count": event.count}))

    def _end_search(self, effects: Effects) -> None:
        """One `search` row per search, not per key: did it lead to a title?"""
        books = self.view.ebooks
        if books.query:
            effects.append(ev.JournalAppend("search", "ok" if books.searched else "abandoned",
                                            detail={"length": len(books.query)}))
        self.view = replace(self.view, ebooks=replace(books, query="", searched=False))

    def leaving(self, effects: Effects) -> None:
        """The session ends or moves away while in the e-book screens."""
        if self.view.screen in EBOOK_SCREENS and self.view.ebooks.query:
            self._end_search(effects)
