"""The real kiosk app (demo tray, sample e-books) at one window size, in a process of its own:
visits the patron's main screens, the staff PIN pad and the admin screen with faults, runs
kiosk.ui.layout_check over each, saves a screenshot of each, and prints {visit: {"screen":
shown, "problems": [...]}} as JSON on its last line (tests/test_screen_sizes.py asserts each
visit reached its screen and found nothing).

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
"""
TITLE = "000001"  # the sample catalogue's first title
PIN = "2580"


def main(size: str, batch: str, public: str, shots: str) -> int:
    from content.store import CatalogueStore
    from tests.staff_pin import staff_hash

    data = Path(tempfile.mkdtemp(prefix="kiosk-sizes-"))
    CatalogueStore(data / "catalogue").apply(Path(batch), Path(public))
    # The admin screen with faults: a central server nobody answers for (port 9, discard)
    # and, once the patron's screens are seen, the RFID pad unplugged.
    sections = SECTIONS + f'[admin]\npin_hash = "{staff_hash(PIN)}"\n'
    app, runtime = sized_app.start(size, data, sections, demo=True)
    from kivy.core.window import Window

    from kiosk.core import events as ev
    from kiosk.core.events import Screen
    from kiosk.ui.layout_check import check
    from tests.kiosk_driver import KioskDriver

    k = KioskDriver(app, Path(shots))
    send = runtime.send
    visits = [
        ("attract", lambda: None),
        ("attract-en", lambda: send(ev.SetLanguage("en"))),
        ("home-en", lambda: send(ev.Start())),
        ("home", lambda: send(ev.SetLanguage("zh_CN"))),
        ("identify", lambda: send(ev.Navigate(Screen.BORROW))),
        ("return", lambda: (send(ev.Navigate(Screen.HOME)), send(ev.Navigate(Screen.RETURN)))),
        ("ebooks", lambda: (send(ev.Navigate(Screen.HOME)), send(ev.Navigate(Screen.EBOOKS)))),
        ("ebook_search", lambda: (send(ev.OpenSearch()), send(ev.SearchTyped("s")))),
        ("ebook_search-en", lambda: send(ev.SetLanguage("en"))),
        ("ebook_title", lambda: (send(ev.SetLanguage("zh_CN")), send(ev.OpenTitle(TITLE)))),
        ("admin_pin", lambda: (send(ev.EndSession()), send(ev.AdminGesture()))),
        # No library system here to sign a patron in: the account screen as it stands before
        # the loans come, its 全部续借 off (the core's next view would take it away again).
        ("account", lambda: (send(ev.EndSession()), send(ev.Start()),
                             setattr(app.screens, "current", "account"))),
        ("admin", lambda: open_admin(k, runtime)),
        ("admin-en", lambda: send(ev.SetLanguage("en"))),
    ]
    found: dict[str, dict] = {}
    for name, action in visits:
        action()
        k.frames(4)
        k.until(lambda: not app.screens.transition.is_active)
        k.frames(4)
        found[name] = {"screen": app.screens.current,
                       "problems": [str(p) for p in check(app.root, tuple(Window.size))]}
        k.screenshot(f"{name}-{size}")
    app.stop()
    print(json.dumps(found, ensure_ascii=False), flush=True)
    return 0


def open_admin(k, runtime) -> None:
    """Staff's screen with its faults listed (the pad unplugged, the checks gathered) and
    what came of "Upload now" beside the USB button: no server answers on port 9."""
    from kiosk.core import events as ev
    runtime.drivers["rfid"].twin.unplug()
    k.until(lambda: runtime.view.devices["rfid"].state == "lost", timeout=10)
    runtime.send(ev.EndSession())
    k.open_admin(runtime, PIN)
    runtime.send(ev.UploadRequested())
    k.until(lambda: runtime.view.upload_result is not None, timeout=15)
    k.until(lambda: any(row.get("verdict") == "故障" for row in k.current().rows), timeout=15)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
