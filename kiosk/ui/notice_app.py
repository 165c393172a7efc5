"""A small app that shows only the out-of-service notice and keeps systemd informed.

No journal, no devices, no network: it must come up when nothing else can. READY=1 after the
first frame with STATUS=out of service: <the first detail>, watchdog pings from the Kivy clock
(the main loop turning is all the progress there is to check), STOPPING=1 on SIGTERM or SIGINT,
then exit 0. Call `kiosk.ui.boot.prepare()` before importing this module.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder

from kiosk.config import DisplaySection
from kiosk.i18n import Translator
from kiosk.ui import boot, typescale
from kiosk.ui.fonts import use_cjk_font
from kiosk.ui.notice import Notice
from kiosk.ui.screens.out_of_service_notice import OutOfServiceNotice
from kiosk.ui.service_link import ServiceLink, out_of_service

log = logging.getLogger(__name__)
UI_DIR = Path(__file__).resolve().parent


class NoticeApp(App):
    title = "Library kiosk"

    def __init__(self, notice: Notice, display: DisplaySection, font_cache: Path,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.notice = notice
        self.display = display
        self.font_cache = font_cache
        self.service = ServiceLink()

    def build(self):
        use_cjk_font(self.font_cache)
        typescale.configure(Window.size)
        for name in ("screens/out_of_service.kv", "screens/out_of_service_notice.kv"):
            Builder.load_file(str(UI_DIR / name))
        root = OutOfServiceNotice(translator=Translator())
        root.show(self.notice)
        return root

    def on_start(self) -> None:
        Window.bind(on_request_close=self._refuse_close, on_key_down=self._refuse_escape)
        Window.show_cursor = boot.show_cursor(self.display)
        log.info("window %dx%d, rotation %d", *Window.size, Window.rotation)
        self.service.status(out_of_service(self.notice.status))
        self.service.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_stop_signal)

    def on_stop(self) -> None:
        self.service.stop()

    def _refuse_close(self, *_args) -> bool:
        return True  # SDL's close request (and SIGTERM through SDL): only our handler stops it

    def _refuse_escape(self, _window, key, *_args) -> bool:
        return key == 27

    def _on_stop_signal(self, signum: int, _frame) -> None:
        log.info("stopping on %s", signal.Signals(signum).name)
        Clock.schedule_once(lambda _dt: self.stop())
