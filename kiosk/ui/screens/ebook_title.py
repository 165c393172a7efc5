"""One e-book's page: a large cover, title, author, publisher, ISBN, format, size in MB and
category, summary, and the QR code that takes the patron's phone to the signed download link,
with how long the link works (the signer's lifetime, `[ebooks] link_ttl_s`), and the library
Wi-Fi's code beside it when this kiosk serves the files itself. When this kiosk should serve
the files and its download server is not listening, no code is shown: a message in both
languages asks the patron to tell staff."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import AliasProperty, BooleanProperty, ObjectProperty, StringProperty

from common.categories import CATEGORIES
from kiosk.core import events as ev
from kiosk.i18n import N_
from kiosk.ui.qr import qr_texture
from kiosk.ui.screens.base import KioskScreen

MB = 1024 * 1024


def size_in_mb(size: int) -> str:
    """What a phone's data plan counts: MB with one decimal, never "0.0 MB"."""
    return f"{max(0.1, size / MB):.1f} MB"


def link_life(tr, lang: str, ttl_s: int | None) -> str:
    """"链接 30 分钟内有效": whole hours from two hours up, else minutes."""
    if not ttl_s:
        return ""
    minutes = ttl_s // 60
    if minutes >= 120 and minutes % 60 == 0:
        return tr(lang, "The link works for {hours} hours", hours=minutes // 60)
    return tr(lang, "The link works for {minutes} minutes", minutes=minutes)


UNAVAILABLE = N_("Downloads are unavailable right now. Please ask the library staff.")


class EbookTitleScreen(KioskScreen):
    library = ObjectProperty(None)
    wifi_payload = StringProperty("")  # "" unless downloads are served on the library Wi-Fi
    heading = StringProperty("")
    author = StringProperty("")
    facts = StringProperty("")  # format, size, category
    publisher = StringProperty("")  # "出版社：…", or "" when the catalogue names none
    isbn = StringProperty("")  # "ISBN …", or ""
    link_life = StringProperty("")  # how long the link in the code works
    summary = StringProperty("")
    cover = StringProperty("")
    link = StringProperty("")  # the signed link in the QR code, for tests and staff
    qr = ObjectProperty(None, allownone=True)
    wifi_qr = ObjectProperty(None, allownone=True)
    showing_wifi = BooleanProperty(False)
    downloads_unavailable = BooleanProperty(False)  # set up here, but the server is down
    _shown: tuple | None = None

    def _unavailable_text(self) -> str:
        """Chinese first, then English, whatever the language: staff must be fetched."""
        return f"{self.tr('zh_CN', UNAVAILABLE)}\n{self.tr('en', UNAVAILABLE)}"

    unavailable_text = AliasProperty(_unavailable_text, bind=("lang",), cache=True)

    def _shown_qr(self):
        return self.wifi_qr if self.showing_wifi else self.qr

    shown_qr = AliasProperty(_shown_qr, bind=("qr", "wifi_qr", "showing_wifi"), cache=True)

    def _qr_caption(self) -> str:
        if self.showing_wifi:
            return self.tr(self.lang, "Scan to join the library Wi-Fi, then go back")
        if self.qr:
            return self.tr(self.lang, "Scan with your phone's camera or WeChat to download")
        if self.downloads_unavailable:
            return ""  # the message takes the code's place
        return self.tr(self.lang, "Downloads are not set up at this kiosk.")

    qr_caption = AliasProperty(_qr_caption, bind=("qr", "showing_wifi", "lang",
                                                  "downloads_unavailable"), cache=True)

    def show(self, view) -> None:
        super().show(view)
        title_id = view.ebooks.title_id
        key = (title_id, view.language)
        if title_id is None or key == self._shown or self.library is None:
            return
        new_title = self._shown is None or self._shown[0] != title_id
        self._shown = key
        self._fill(title_id, view.language, new_title)

    def on_leave(self, *args) -> None:
        self._shown = None  # the next visit makes a fresh link

    def _fill(self, title_id: str, lang: str, new_title: bool) -> None:
        title = self.library.title(title_id)
        if title is None:  # withdrawn or past its licence since the shelf was drawn
            self.heading, self.author, self.summary, self.cover = "", "", "", ""
            self.publisher, self.isbn, self.link_life = "", "", ""
            self.facts = self.tr(lang, "This title is no longer available.")
            self.qr = None
            self._report(title_id, "unavailable", new_title)
            return
        zh = lang == "zh_CN"
        category = CATEGORIES.get(title.category, (title.category,) * 2)[0 if zh else 1]
        self.heading, self.author, self.summary = title.title, title.author, title.summary
        self.facts = f"{title.format.upper()} · {size_in_mb(title.size)} · {category}"
        self.publisher = (self.tr(lang, "Publisher: {publisher}", publisher=title.publisher)
                          if title.publisher else "")
        self.isbn = f"ISBN {title.isbn}" if title.isbn else ""
        self.cover = self.library.path(title.cover)
        if new_title:
            self.showing_wifi = False
            self.link = self.library.link(title.id) or ""
            self.downloads_unavailable = not self.link and self.library.downloads_unavailable
            self.qr = qr_texture(self.link) if self.link else None
            self.wifi_qr = (qr_texture(self.wifi_payload)
                            if self.wifi_payload and self.link else None)
        self.link_life = link_life(self.tr, lang, self.library.link_ttl_s) if self.link else ""
        outcome = ("ok" if self.link else
                   "server_unavailable" if self.downloads_unavailable else "no_download_address")
        self._report(title_id, outcome, new_title)

    def _report(self, title_id: str, outcome: str, new_title: bool) -> None:
        if new_title:
            # After this view is drawn: the core must not be re-entered from its own listener.
            Clock.schedule_once(lambda _dt: self.send(ev.QrShown(title_id, outcome)), 0)
