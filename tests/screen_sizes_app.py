"""The real kiosk app (demo tray, sample e-books) at one window size, in a process of its own:
visits the patron's main screens (with the demo's library on a test ILS: a blocked card, books
refused, the goodbye, a borrowing to its receipt in both languages, the patron's summary
naming a hold, a patron's loans), the staff PIN pad and the admin screen with faults, runs
kiosk.ui.layout_check over each, saves a screenshot of each, and prints {visit: {"screen":
shown, "problems": [...], "texts": [...]}} as JSON on its last line (tests/test_screen_sizes.py
asserts each visit reached its screen and found nothing).

    python tests/screen_sizes_app.py WIDTHxHEIGHT BATCH PUBLIC_KEY SHOTS
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import sized_app  # beside this script; it puts the project on sys.path and quiets Kivy

SECTIONS = """
[idle]
timeout_s = 3600
[central]
url = "http://127.0.0.1:9"
retries = 0
[devices]
scanner = "sim:scanner"
rfid = "sim:3m810?scenario=demo&paced=no&poll_ms=50"
[ebooks]
download_base = "https://books.example.org"
"""
TITLE = "000001"  # the sample catalogue's first title
PIN = "2580"
# The demo library's (kiosk/demo/ils.toml): a card, a blocked card with fines, books.
CARD, BLOCKED = "23520001234566", "23520005555552"
RED, HELD, UNKNOWN = "33520000123453", "33520000789014", "33520009999998"
RED_TAG = "E004015000000001"  # 红楼梦's tag on the demo's simulated pad
# 李芳, whose hold (三体) waits for her, borrows 活着 and 英语听力 (its book and its CD).
HOLDER, BOOK_TAGS = "23520009876541", ("E004015000000002", "E004015000000004",
                                       "E004015000000005")


def texts(app) -> list[str]:
    """Every label's text on the screen showing (a list's rows as the RecycleView's data)."""
    screen = app.screens.current_screen
    found = [w.text for w in screen.walk() if isinstance(getattr(w, "text", None), str)]
    for row in getattr(screen, "rows", []):
        found += [row.get("title", ""), row.get("detail", "")]
    return [text for text in found if text]


def over_header(screen) -> list[str]:
    """Texts of the screen's body drawn up over its header (ScreenHeader, the top bar)."""
    from kivy.factory import Factory
    from kivy.uix.label import Label

    headers = [w for w in screen.walk(restrict=True) if isinstance(w, Factory.ScreenHeader)]
    if not headers:
        return []
    header = headers[0]
    inside = set(header.walk(restrict=True))
    bottom = header.to_window(header.x, header.y)[1]
    found = []
    for label in screen.walk(restrict=True):
        if isinstance(label, Label) and label not in inside and label.text.strip() \
                and label.opacity > 0.05:
            top = label.to_window(label.x, label.center_y + label.texture_size[1] / 2)[1]
            if top > bottom + 1:
                found.append(f"{label.text[:20]!r} {top - bottom:.0f} px")
    return found


def covers(search) -> list:
    """The search's result rows drawn now (only those on screen are made)."""
    return list(search.ids.results.children[0].children)


def main(size: str, batch: str, public: str, shots: str) -> int:
    from content.store import CatalogueStore
    from kiosk.sip2.standin_data import IlsData
    from kiosk.sip2.standin_server import Sip2TestServer
    from tests.runtime_kiosk import ils_section
    from tests.staff_pin import staff_hash

    data = Path(tempfile.mkdtemp(prefix="kiosk-sizes-"))
    CatalogueStore(data / "catalogue").apply(Path(batch), Path(public))
    # The demo's library on a test ILS: a blocked card, a book on hold, one already lent.
    ils = Sip2TestServer(IlsData.load(sized_app.ROOT / "kiosk/demo/ils.toml")).start()
    # The admin screen with faults: a central server nobody answers for (port 9, discard)
    # and, once the patron's screens are seen, the RFID pad unplugged.
    # A patient ILS: two of these apps draw large windows at once on a loaded machine.
    patient = ils_section(ils).replace("timeout_s = 1.0", "timeout_s = 5.0")
    sections = SECTIONS + f'[admin]\npin_hash = "{staff_hash(PIN)}"\n' + patient \
        + '[circulation]\npin = "no"\n'
    app, runtime = sized_app.start(size, data, sections, demo=True)
    from kivy.core.window import Window

    from drivers.events import BarcodeRead
    from kiosk.core import events as ev
    from kiosk.core.events import Screen
    from kiosk.demo import hooks
    from kiosk.ui.layout_check import check, faint
    from kiosk.ui.palette import HIGH_CONTRAST_RATIO
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    send = runtime.send
    k.until(lambda: runtime.ils is not None and runtime.ils.online, timeout=20)

    def card(number: str, screen: str) -> None:
        """A new session, a card scanned to borrow, then its screen once the ILS answered."""
        send(ev.EndSession())
        send(ev.EndSession())  # past the goodbye
        send(BarcodeRead("scanner", number, "codabar", "patron"))
        k.until(lambda: app.screens.current == screen
                and runtime.view.screen == screen, timeout=20)

    def left_on_pad() -> None:
        """A book the last session left lying on the pad, as the next patron returns."""
        send(ev.EndSession())
        send(ev.EndSession())
        hooks.sim_pad(runtime.drivers).place(RED_TAG)
        k.until(lambda: runtime.session.pad_uids, timeout=10)
        send(ev.EndSession())  # its session ends with the book still there
        send(ev.Start())
        send(ev.Navigate(Screen.RETURN))
        k.until(lambda: runtime.view.circulation.left_on_pad == 1, timeout=10)

    def refusals() -> None:
        """The patron's own loan (lent a moment ago) offers renewal; a held book goes to
        staff; an unknown one too."""
        ils.data.loans.pop(RED, None)
        card(CARD, "borrow")
        send(BarcodeRead("scanner", RED, None, "item"))
        k.until(lambda: runtime.view.circulation.lines
                and not runtime.view.circulation.busy, timeout=20)
        card(CARD, "borrow")
        for item in (RED, HELD, UNKNOWN):
            send(BarcodeRead("scanner", item, None, "item"))
        k.until(lambda: len(runtime.view.circulation.lines) == 3
                and not runtime.view.circulation.busy, timeout=20)

    def search():  # screens are made as the app first needs them
        return app.screens.get_screen("ebook_search")

    def signed_in() -> None:
        """李芳 signs in by number: the borrow screen, her summary naming her hold."""
        send(ev.EndSession())
        send(ev.EndSession())  # past the goodbye
        send(ev.Start())
        send(ev.Navigate(Screen.BORROW))
        send(ev.CardNumberTyped(HOLDER))
        k.until(lambda: runtime.view.screen is Screen.BORROW and any(
            hold.title for hold in runtime.view.circulation.patron.holds), timeout=30)

    def borrowed() -> None:
        """She puts two books on the pad; Finish: her receipt."""
        hooks.sim_pad(runtime.drivers).place(*BOOK_TAGS)
        k.until(lambda: len(runtime.view.circulation.lines) == 2
                and not runtime.view.circulation.busy, timeout=30)
        send(ev.FinishFlow())

    def her_loans() -> None:
        """The books lifted off the pad; her loans listed, each with its Renew button."""
        hooks.sim_pad(runtime.drivers).remove(*BOOK_TAGS)
        k.until(lambda: not runtime.session.pad_uids, timeout=10)
        send(ev.EndSession())
        send(ev.EndSession())
        send(ev.Start())
        send(ev.Navigate(Screen.ACCOUNT))
        send(ev.CardNumberTyped(HOLDER))
        k.until(lambda: runtime.view.screen is Screen.ACCOUNT
                and not runtime.view.circulation.busy, timeout=30)
        k.wait(0.5)
    visits = [
        ("attract", lambda: None),
        ("attract-en", lambda: send(ev.SetLanguage("en"))),
        ("home-en", lambda: send(ev.Start())),
        ("home", lambda: send(ev.SetLanguage("zh_CN"))),
        ("identify", lambda: send(ev.Navigate(Screen.BORROW))),
        ("identify-accessible", lambda: send(ev.SetAccessible(True))),
        ("return", lambda: (send(ev.Navigate(Screen.HOME)), send(ev.Navigate(Screen.RETURN)))),
        ("ebooks", lambda: (send(ev.Navigate(Screen.HOME)), send(ev.Navigate(Screen.EBOOKS)))),
        ("ebook_search-empty", lambda: send(ev.OpenSearch())),  # the pinyin hint shows
        ("ebook_search", lambda: send(ev.SearchTyped("s"))),
        ("ebook_search-en", lambda: send(ev.SetLanguage("en"))),
        # The keyboard hidden (its own key; no core event): the results take its room.
        ("ebook_search-hidden-en", lambda: setattr(search(), "keyboard_shown", False)),
        ("ebook_search-hidden", lambda: send(ev.SetLanguage("zh_CN"))),
        # The header's longest hint: counting stopped at the cap ("找到超过 3 本，显示前 2 本").
        ("ebook_search-more", lambda: (setattr(search(), "keyboard_shown", True),
                                       setattr(search(), "page", 2),
                                       setattr(search(), "count_cap", 3),
                                       send(ev.SearchTyped("zhong")))),
        ("ebook_search-more-en", lambda: send(ev.SetLanguage("en"))),
        ("ebook_title", lambda: (send(ev.SetLanguage("zh_CN")), send(ev.OpenTitle(TITLE)))),
        ("ebook_title-en", lambda: send(ev.SetLanguage("en"))),
        ("admin_pin", lambda: (send(ev.EndSession()), send(ev.AdminGesture()))),
        # The account screen as it stands before a patron is signed in and the loans come,
        # its 全部续借 off (set directly: the core's next view would take it away again).
        ("account", lambda: (send(ev.EndSession()), send(ev.Start()),
                             app.screen(Screen.ACCOUNT),  # made, as the view has not asked
                             setattr(app.screens, "current", "account"))),
        ("borrow", signed_in),
        ("borrow-accessible", lambda: send(ev.SetAccessible(True))),
        ("receipt", borrowed),
        ("receipt-accessible", lambda: send(ev.SetAccessible(True))),
        ("receipt-en", lambda: send(ev.SetLanguage("en"))),
        ("account-patron", lambda: (send(ev.SetLanguage("zh_CN")), her_loans())),
        ("account-patron-accessible", lambda: send(ev.SetAccessible(True))),
        # A card that cannot borrow: the full-screen stop, in both languages.
        ("blocked", lambda: card(BLOCKED, "blocked")),
        ("blocked-accessible", lambda: send(ev.SetAccessible(True))),
        ("blocked-en", lambda: send(ev.SetLanguage("en"))),
        ("borrow-refused", lambda: (send(ev.SetLanguage("zh_CN")), refusals())),
        ("borrow-refused-accessible", lambda: send(ev.SetAccessible(True))),
        ("borrow-refused-en", lambda: send(ev.SetLanguage("en"))),
        ("goodbye-en", lambda: send(ev.FinishFlow())),  # nothing lent: no receipt
        ("goodbye", lambda: (send(ev.EndSession()), send(ev.EndSession()),
                             send(BarcodeRead("scanner", CARD, "codabar", "patron")),
                             k.until(lambda: runtime.view.screen == "borrow", timeout=20),
                             send(ev.EndSession()))),
        ("identify-wrong-number", lambda: (send(ev.Start()), send(ev.Navigate(Screen.BORROW)),
                                           send(ev.CardNumberTyped("2352000123")))),
        ("identify-wrong-number-accessible", lambda: send(ev.SetAccessible(True))),
        ("identify-wrong-number-en", lambda: send(ev.SetLanguage("en"))),
        ("return-left-on-pad", left_on_pad),
        ("return-left-on-pad-accessible", lambda: send(ev.SetAccessible(True))),
        # The accessibility mode: larger type, higher contrast; the screens are made anew.
        ("home-accessible", lambda: (send(ev.EndSession()), send(ev.EndSession()),
                                     send(ev.SetAccessible(True)))),
        ("return-accessible", lambda: send(ev.Navigate(Screen.RETURN))),
        ("ebooks-accessible", lambda: (send(ev.Navigate(Screen.HOME)),
                                       send(ev.Navigate(Screen.EBOOKS)))),
        ("ebook_title-accessible", lambda: send(ev.OpenTitle(TITLE))),
        ("goodbye-accessible", lambda: (send(ev.EndSession()), send(ev.EndSession()),
                                        send(ev.SetAccessible(True)),
                                        send(BarcodeRead("scanner", CARD, "codabar", "patron")),
                                        k.until(lambda: runtime.view.screen == "borrow",
                                                timeout=20),
                                        send(ev.EndSession()))),
        ("admin", lambda: open_admin(k, runtime)),
        ("admin-en", lambda: send(ev.SetLanguage("en"))),
    ]
    found: dict[str, dict] = {}
    for name, action in visits:
        if app.accessible and "accessible" not in name:  # the mode off before a normal visit
            send(ev.SetAccessible(False))
            k.until(lambda: not app.accessible)
        action()
        if name.endswith("-accessible"):  # the screens made anew in the mode's type and colours
            k.until(lambda: app.accessible)
        k.frames(4)
        k.until(lambda: not app.screens.transition.is_active)
        k.frames(4)
        if name.startswith("ebook_search") and search().results:  # each row's cover decoded
            k.until(lambda: covers(search()) and all(r.texture for r in covers(search())))
        found[name] = {"screen": app.screens.current,
                       "problems": [str(p) for p in check(app.root, tuple(Window.size))],
                       "texts": texts(app),
                       # In the accessibility mode every text stands out 7:1 (AAA).
                       "accessible": app.accessible,
                       "over_header": over_header(app.screens.current_screen),
                       "faint": faint(app.root, HIGH_CONTRAST_RATIO) if app.accessible else [],
                       "covers": sum(bool(r.texture) for r in covers(search()))
                       if name.startswith("ebook_search") else 0}
        k.screenshot(f"{name}-{size}")
    app.stop()
    ils.stop()
    print(json.dumps(found, ensure_ascii=False), flush=True)
    return 0


def open_admin(k, runtime) -> None:
    """Staff's screen with its faults listed (the pad unplugged, the checks gathered) and
    what came of "Upload now" beside the USB button: no server answers on port 9."""
    from kiosk.core import events as ev
    runtime.drivers["rfid"].twin.unplug()
    k.until(lambda: runtime.view.devices["rfid"].state == "lost", timeout=10)
    runtime.send(ev.EndSession())
    runtime.send(ev.EndSession())  # past the goodbye
    k.open_admin(runtime, PIN)
    runtime.send(ev.UploadRequested())
    k.until(lambda: runtime.view.upload_result is not None, timeout=15)
    k.until(lambda: any(row.get("verdict") == "故障" for row in k.current().rows), timeout=15)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
