"""The e-book catalogue as the screens use it: today's shelves, search, a title's QR link.

Opens the current catalogue version and opens it again when staff apply or roll back a batch
while the kiosk runs (the `current` link then points elsewhere). "Most popular here" comes from
this kiosk's own journal: title views counted at start, then as they happen. Runs on the Kivy
main thread; SQLite reads of one small file are fast enough to do there (see bench/search.py).
"""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from content.title import Title

if TYPE_CHECKING:  # opened lazily, when there is a catalogue to open
    from content.catalogue import Catalogue, Found

log = logging.getLogger(__name__)
SHELF_LIMIT = 5000  # titles on one shelf: the grid draws only those on screen
POPULAR_LIMIT = 60


class EbookLibrary:
    def __init__(self, root: Path, *, view_counts: dict[str, int] | None = None,
                 link: Callable[[str], str] | None = None, downloads=None,
                 today: Callable[[], str] = lambda: date.today().isoformat()) -> None:
        """`downloads` (kiosk.ebooks.download_links.DownloadLinks) makes the QR links and
        knows whether they can work; a plain `link` function serves tests."""
        self.root = root
        self.view_counts = dict(view_counts or {})
        self.make_link = link or (downloads.link if downloads is not None else None)
        self.downloads = downloads
        self.today = today
        self._catalogue: Catalogue | None = None
        self._opened: str | None = None  # the version folder the catalogue was opened from
        self._current = os.path.join(root, "current")
        self._looked: tuple[int, int, int] | None = None  # the folder `current` last led to

    # --- what the screens ask -------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self._refresh() is not None

    def categories(self) -> list[tuple[str, int]]:
        catalogue = self._refresh()
        return catalogue.categories(self.today()) if catalogue else []

    def shelf(self, shelf: str, limit: int = SHELF_LIMIT) -> list[Title]:
        """The shelf's first `limit` titles (the attract screen wants a few covers, not
        thousands of rows)."""
        catalogue = self._refresh()
        if catalogue is None:
            return []
        today = self.today()
        if shelf == "new":
            return catalogue.new_titles(today, limit)
        if shelf == "popular":
            return catalogue.popular(self.view_counts, today, min(limit, POPULAR_LIMIT))
        return catalogue.browse(None if shelf == "all" else shelf, today, 0, limit)

    def search(self, query: str, limit: int = 60) -> list[Title]:
        catalogue = self._refresh()
        return catalogue.search(query, self.today(), limit) if catalogue and query else []

    def found(self, query: str, cap: int) -> "Found":
        """How many titles `search` would find with no limit, the number the screen says:
        exact, or "more than `cap`" where counting them all would slow the keystroke."""
        catalogue = self._refresh()
        if catalogue and query:
            return catalogue.found(query, self.today(), cap)
        from content.catalogue import Found  # not at every key: the catalogue has it loaded
        return Found(0)

    def title(self, title_id: str) -> Title | None:
        catalogue = self._refresh()
        return catalogue.get(title_id, self.today()) if catalogue else None

    @property
    def version(self) -> str | None:
        """The version folder the catalogue was last opened from."""
        return self._opened

    def path(self, relative: str) -> str:
        """A cover's or file's full path inside the version the catalogue was opened from."""
        return os.path.join(self._opened or "", relative)

    def link(self, title_id: str) -> str | None:
        return self.make_link(title_id) if self.make_link else None

    @property
    def link_ttl_s(self) -> int | None:
        """How long a QR link works, from the signer that makes them (`[ebooks] link_ttl_s`);
        None when this kiosk makes no links."""
        return self.downloads.signer.ttl_s if self.downloads is not None else None

    @property
    def downloads_unavailable(self) -> bool:
        """Downloads are set up here but cannot work now (the download server is not
        listening): the title page says so instead of showing a code."""
        return self.downloads is not None and self.downloads.unavailable

    def viewed(self, title_id: str) -> None:
        self.view_counts[title_id] = self.view_counts.get(title_id, 0) + 1

    # --- keeping up with staff's batches --------------------------------------------------

    def _refresh(self):
        """The catalogue of the version `current` leads to, opened again when staff switched
        it. Asked at every key typed: one stat of the folder it leads to (device, inode,
        change time) says whether it moved; its path is resolved (a lstat per folder on the
        way) only then."""
        try:
            folder = os.stat(self._current)
            looked: tuple[int, int, int] | None = (folder.st_dev, folder.st_ino,
                                                   folder.st_ctime_ns)
        except OSError:  # no version yet, or the link leads nowhere
            looked = None
        if looked != self._looked:
            self._looked = looked
            target = os.path.realpath(self._current) if looked is not None else None
            if target != self._opened:
                self._open(target)
        return self._catalogue

    def _open(self, target: str | None) -> None:
        from content.catalogue import Catalogue
        from content.errors import ContentError
        if self._catalogue is not None:
            self._catalogue.close()
        self._catalogue, self._opened = None, target
        if target is None:
            log.warning("no e-book catalogue at %s yet: apply a batch with `kiosk content apply`",
                        self.root)
            return
        try:
            self._catalogue = Catalogue.open(Path(target))
        except ContentError as e:  # the shelves say the catalogue is missing; staff roll back
            log.error("cannot open the e-book catalogue %s: %s", target, e)
            return
        log.info("showing e-book catalogue %s", Path(target).name)
