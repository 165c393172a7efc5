"""The Kivy app: builds the screens, binds them to the runtime, and keeps patrons inside.

Everything here runs on the Kivy main thread. Call `kiosk.ui.boot.prepare()` before importing
this module: Kivy reads its settings when its window module is first imported.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from importlib import import_module
from pathlib import Path
from typing import Callable, NamedTuple

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.core import events as ev
from kiosk.core.events import CIRCULATION_SCREENS, EBOOK_SCREENS, Screen
from kiosk.demo import hooks, load_samples
from kiosk.i18n import N_, Translator
from kiosk.runtime import Runtime
from kiosk.ui import boot, palette, sound_link, typescale
from kiosk.ui.cover_cache import CoverCache
from kiosk.ui.device_labels import device_label
from kiosk.ui.fonts import use_cjk_font
from kiosk.ui.keys import KeyBuffer
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.service_link import IN_SERVICE, ServiceLink, out_of_service
from kiosk.ui.widgets import CountdownOverlay, DemoTray

log = logging.getLogger(__name__)
UI_DIR = Path(__file__).resolve().parent
PUMP_INTERVAL_S = 0.05  # the idle timer's tick; events wake the pump as they arrive
NOTICES = {
    "scan_isbn": N_("That is the ISBN on the cover. Please scan the library's barcode instead."),
    "scan_unknown": N_("This code is not a library card or a library book."),
    "choose_service": N_("Read {code}. Please choose Borrow or Return first."),
    "card_first": N_("Please scan your library card first."),
    "no_card_needed": N_("No card is needed to return books."),
    "finish_first": N_("Please finish first: press Finish, then start again with the other card."),
    "tags_seen": N_("{count} item(s) on the pad. Please choose Borrow or Return."),
    "tags_unreadable": N_("{count} tag(s) cannot be read. Please hand the item(s) to staff."),
    "tags_incomplete": N_("{count} item(s) are missing a part (a disc or booklet). "
                          "Please put all parts on the pad."),
}
PATRON_SCREENS = frozenset({Screen.HOME, *CIRCULATION_SCREENS, *EBOOK_SCREENS})
FIRST_FRAME_FILE = "KIOSK_FIRST_FRAME_FILE"  # the start-up benchmark's marker
# Made in the frames after the first one, before a patron needs them: where a touch on the
# attract screen leads. Every other screen is made (and its module imported) when first shown.
PREPARED_SCREENS = (Screen.HOME,)


class ScreenRecipe(NamedTuple):
    """How a screen is made: its kv files, its class (module under kiosk.ui.screens, name), and
    the call that makes it from that class."""
    kv: tuple[str, ...]
    module: str
    cls: str
    make: Callable[[type], KioskScreen]

    def build(self) -> KioskScreen:
        return self.make(getattr(import_module(f"kiosk.ui.screens.{self.module}"), self.cls))


class KioskRoot(FloatLayout):
    notice_text = StringProperty("")
    offline_text = StringProperty("")
    demo = BooleanProperty(False)
    staff_action = ObjectProperty(lambda: None)
    staff_hold_s = ObjectProperty(3.0)


class KioskApp(App):
    title = "Library kiosk"
    # Kivy's own settings panel (F1, the menu key) changes fullscreen, cursor, rotation and
    # logging: never on a kiosk, in no mode. open_settings() below refuses it as well.
    use_kivy_settings = False
    settings_cls = None
    # The session's accessibility mode (the core's view.accessible): larger text, higher
    # contrast; kiosk.sound speaks everything while it is on.
    accessible = BooleanProperty(False)

    def __init__(self, runtime: Runtime, *, demo: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.runtime = runtime
        self.demo = demo
        self.translator: Translator | None = None
        self.restart_requested = False
        self._keys = KeyBuffer()
        self._overlay: CountdownOverlay | None = None
        # systemd's watchdog is pinged only while the runtime's pump keeps turning.
        self.service = ServiceLink(progressed_since=runtime.turned_since)

    @property
    def clock(self):
        return self.runtime.clock

    def tr(self, language: str, msgid: str, **args: object) -> str:
        """`msgid` in `language`, through the translator build() makes."""
        if self.translator is None:
            raise RuntimeError(f"{msgid!r} asked before the app was built: no translator yet")
        return self.translator.tr(language, msgid, **args)

    # --- building -------------------------------------------------------------------------

    def build(self) -> KioskRoot:
        use_cjk_font(self.runtime.config.data_dir / "cache" / "fonts")
        typescale.configure(Window.size)
        self.translator = Translator()
        self.covers = CoverCache()
        self._load_kv("widgets.kv", "app.kv")
        palette.use(high_contrast=False)  # a second app in the process: kv is loaded once
        root = KioskRoot(demo=self.demo, staff_hold_s=self.runtime.config.admin.long_press_s,
                         staff_action=lambda: self.runtime.send(ev.AdminGesture()))
        self.screens = self._screen_manager()
        self._unbuilt = self._screen_makers()
        self._build_screen(Screen.ATTRACT)
        root.ids.stage.add_widget(self.screens, index=len(root.ids.stage.children))
        if self.demo:
            self._add_demo_tray(root)
        self.runtime.restart = self._restart
        self.runtime.on_view.append(self.show)
        self.sound = sound_link.player_for(self)  # tones and prompts follow the same views
        self.runtime.on_view.append(self.sound.hear)
        return root

    @staticmethod
    def _screen_manager() -> ScreenManager:
        # FloatLayout places only children with a pos_hint.
        return ScreenManager(transition=NoTransition(), pos_hint={"x": 0, "y": 0})

    def _screen_makers(self) -> dict[Screen, ScreenRecipe]:
        """Each screen's recipe. Only the attract screen is made before the first frame, the
        PREPARED_SCREENS in the frames after it, the others when the view first needs them:
        their modules (the QR encoder, the USB panel and its batch checks) load then too."""
        # Given at construction, so that kv's first evaluation already translates.
        common = {"translator": self.translator, "send": self.runtime.send,
                  "lang": self.runtime.view.language}
        books = {"library": self.runtime.library, **common}
        kiosk, attract = self.runtime.config.kiosk, self.runtime.config.attract
        flow = "flow"  # the rows, banner and buttons the circulation screens share

        def plain(screen: Screen, module: str, cls: str, kv: tuple[str, ...] = ()
                  ) -> ScreenRecipe:
            return ScreenRecipe(kv or (module,), module, cls,
                                lambda made: made(name=screen.value, **common))

        return {
            Screen.ATTRACT: ScreenRecipe(
                ("attract",), "attract", "AttractScreen", lambda made: made(
                    name=Screen.ATTRACT.value, name_zh=kiosk.library_name_zh,
                    name_en=kiosk.library_name_en, library=self.runtime.library,
                    covers_cache=self.covers, show_covers=attract.covers,
                    cover_s=attract.cover_s, notices=list(attract.notices),
                    notice_s=attract.notice_s, **common)),
            Screen.HOME: plain(Screen.HOME, "home", "HomeScreen"),
            Screen.IDENTIFY: plain(Screen.IDENTIFY, "identify", "IdentifyScreen",
                                   (flow, "identify")),
            Screen.BORROW: plain(Screen.BORROW, "borrow", "BorrowScreen", (flow, "borrow")),
            Screen.RETURN: plain(Screen.RETURN, "return_", "ReturnScreen", (flow, "return_")),
            Screen.ACCOUNT: plain(Screen.ACCOUNT, "account", "AccountScreen", (flow, "account")),
            Screen.RECEIPT: plain(Screen.RECEIPT, "receipt", "ReceiptScreen", (flow, "receipt")),
            Screen.EBOOKS: ScreenRecipe(("ebooks",), "ebooks", "EbooksScreen", lambda made: made(
                name=Screen.EBOOKS.value, covers_cache=self.covers, **books)),
            Screen.EBOOK_SEARCH: ScreenRecipe(
                ("ebook_search",), "ebook_search", "EbookSearchScreen", lambda made: made(
                    name=Screen.EBOOK_SEARCH.value, covers_cache=self.covers, **books)),
            Screen.EBOOK_TITLE: ScreenRecipe(
                ("ebook_title",), "ebook_title", "EbookTitleScreen", lambda made: made(
                    name=Screen.EBOOK_TITLE.value, wifi_payload=self.runtime.wifi_payload,
                    **books)),
            Screen.ADMIN_PIN: plain(Screen.ADMIN_PIN, "admin_pin", "AdminPinScreen"),
            Screen.ADMIN: ScreenRecipe(
                ("admin_usb", "admin_sound", "admin"), "admin", "AdminScreen",
                lambda made: made(name=Screen.ADMIN.value, batch_target=self._batch_target(),
                                  device_sources=dict(self.runtime.config.devices), **common)),
            Screen.OUT_OF_SERVICE: plain(Screen.OUT_OF_SERVICE, "out_of_service",
                                         "OutOfServiceScreen"),
            Screen.BLOCKED: plain(Screen.BLOCKED, "blocked", "BlockedScreen"),
            Screen.GOODBYE: plain(Screen.GOODBYE, "goodbye", "GoodbyeScreen"),
        }

    def _batch_target(self):
        from kiosk.media.batch_apply import BatchTarget
        config = self.runtime.config
        return BatchTarget(config.catalogue_dir, config.batch_public_key_path)

    def screen(self, name: Screen) -> KioskScreen:
        """The screen `name`, made now if the view has not shown it yet."""
        if name in self._unbuilt:
            self._build_screen(name)
        return self.screens.get_screen(name.value)

    def _build_screen(self, name: Screen) -> None:
        recipe = self._unbuilt.pop(name)
        self._load_kv(*(f"screens/{kv}.kv" for kv in recipe.kv))
        screen = recipe.build()
        self.screens.add_widget(screen)
        screen.show(self.runtime.view)

    def on_accessible(self, _app, on: bool) -> None:
        """Larger type and the high-contrast palette, or back: kv reads both when it builds a
        widget, so the screens are made anew (the one the view shows at once, by show())."""
        typescale.configure(Window.size, accessible=on)
        palette.use(high_contrast=on)
        self._restyle_root()
        old = self.screens
        self._leave_screen()
        stage = old.parent
        index = stage.children.index(old)
        stage.remove_widget(old)
        self.screens = self._screen_manager()
        stage.add_widget(self.screens, index=index)
        self._unbuilt = self._screen_makers()
        Clock.schedule_once(self._prepare_next_screen)

    def _restyle_root(self) -> None:
        """What lies outside the screens, made once with the root, takes the new type and
        colours in place: the notice and offline bars, the demo tray's buttons."""
        if self.root is None:
            return
        self.root.ids.notice_bar.restyle()
        self.root.ids.offline_bar.restyle()
        if getattr(self, "tray", None) is not None:
            self.tray.restyle()

    def _leave_screen(self) -> None:
        """The screen showing stops its timers, as when it is left."""
        if self.screens.current_screen is not None:
            self.screens.current_screen.dispatch("on_leave")

    def _after_first_frame(self, *_args) -> None:
        Window.unbind(on_flip=self._after_first_frame)
        Clock.schedule_once(self._prepare_next_screen)

    def _prepare_next_screen(self, _dt=None) -> None:
        """After the first frame: one PREPARED_SCREENS screen a frame, so a touch finds it."""
        waiting = [name for name in PREPARED_SCREENS if name in self._unbuilt]
        if waiting:
            self._build_screen(waiting[0])
            Clock.schedule_once(self._prepare_next_screen)

    def _load_kv(self, *names: str) -> None:
        for name in names:
            path = str(UI_DIR / name)
            # Builder is the process's, not the app's: a file's rules loaded twice would build
            # every widget's children twice (a second app in one process: tests, a restart).
            if path not in Builder.files:
                Builder.load_file(path)

    def _add_demo_tray(self, root: KioskRoot) -> None:
        scanner = hooks.sim_scanner(self.runtime.drivers)
        if scanner is None:
            log.warning("demo mode without a sim: scanner; the tray and keyboard scans are off")
            return
        tray = DemoTray()
        tray.fill(load_samples(), scanner.scan)
        pad = hooks.sim_pad(self.runtime.drivers)
        if pad is not None:
            tray.add_tags(pad)
        root.ids.column.add_widget(tray)
        self.tray = tray

    # --- running --------------------------------------------------------------------------

    def on_start(self) -> None:
        Window.bind(on_request_close=self._refuse_close, on_key_down=self._on_key_down,
                    on_textinput=self._on_textinput)
        Window.bind(on_touch_down=lambda *_: self.runtime.send(ev.Touch()))
        Window.show_cursor = boot.show_cursor(self.runtime.config.display)
        if os.environ.get(FIRST_FRAME_FILE):
            Window.bind(on_flip=self._mark_first_frame)
        self.runtime.start()
        self.show(self.runtime.view)
        Window.bind(on_flip=self._after_first_frame)
        self.service.start()
        Clock.schedule_interval(lambda dt: self.runtime.pump(), PUMP_INTERVAL_S)
        # A scan or the ILS's answer is handled in the next frame, not up to 50 ms later.
        self.runtime.events.wake = Clock.create_trigger(lambda dt: self.runtime.pump())
        # SDL turns SIGTERM and SIGINT into a window-close request, which a kiosk refuses; but
        # systemd stopping the service, or Ctrl+C on the demo's terminal, must stop the app.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_stop_signal)

    def on_stop(self) -> None:
        self.service.stop(restarting=self.restart_requested)
        self._leave_screen()  # the attract screen's timers read covers, closed next
        self.covers.close()
        self.runtime.close()

    def show(self, view) -> None:
        """Bring every screen and overlay in line with the core's view."""
        self.accessible = view.accessible  # first: the screens are made anew when it changes
        if view.screen in self._unbuilt:
            self._build_screen(view.screen)
        for screen in self.screens.screens:
            if screen.name == Screen.ADMIN.value:
                screen.now = self.runtime.clock()
            screen.show(view)
        if self.screens.current != view.screen.value:
            self.screens.current = view.screen.value
        notice = view.notice
        self.root.notice_text = (self.tr(view.language, NOTICES[notice.message], **notice.args)
                                 if notice else "")
        self.root.offline_text = self._offline_text(view)
        if self.demo and hasattr(self, "tray"):
            self.tray.title = self.tr(view.language, "Demo: tap to scan or place")
        self._show_countdown(view)
        self.service.status(self._service_status(view))

    def _service_status(self, view) -> str:
        if view.out_of_service is None:
            return IN_SERVICE
        fault = self.runtime.keeper.fault
        return out_of_service(fault.message if fault else view.out_of_service.cause)

    def _offline_text(self, view) -> str:
        if view.screen not in PATRON_SCREENS or not view.offline_devices:
            return ""
        tr = self.tr
        sources = self.runtime.config.devices
        names = sorted({tr(view.language, device_label(sources[name]))
                        for name in view.offline_devices if name in sources})
        return tr(view.language, "Not working right now: {devices}. Please ask a member of staff.",
                  devices=", ".join(names))

    def _show_countdown(self, view) -> None:
        if view.countdown is None:
            if self._overlay is not None:
                self.root.remove_widget(self._overlay)
                self._overlay = None
            return
        if self._overlay is None:
            self._overlay = CountdownOverlay(keep=lambda: self.runtime.send(ev.Touch()),
                                             pos_hint={"x": 0, "y": 0})
            self.root.add_widget(self._overlay)
        tr = self.tr
        self._overlay.question = tr(view.language, "Are you still there?")
        self._overlay.explanation = tr(view.language, "This session ends in {seconds} seconds.",
                                       seconds=view.countdown)
        self._overlay.button_text = tr(view.language, "I'm still here")

    # --- keeping patrons inside -----------------------------------------------------------

    def _refuse_close(self, *_args, **_kwargs) -> bool:
        log.info("window close refused: the kiosk is left only through the admin screen")
        return True

    def _on_key_down(self, _window, key, _scancode, codepoint, modifiers) -> bool:
        """Every key ends here, in every mode: a key the kiosk does not use is swallowed, so
        Kivy's on_keyboard handlers (F1's settings, Escape's exit, a module's F11 and F12)
        never hear it. A USB keyboard edits the search while it shows (kiosk.ui.keys); else
        the demo plays typed codes through its simulated scanner."""
        search = self._typing_into()
        if search is not None:
            search.hardware_key(key, modifiers)
            return True
        scanner = hooks.sim_scanner(self.runtime.drivers) if self.demo else None
        if scanner is not None and key != 27:
            code = self._keys.feed(codepoint, enter=key in (13, 271))
            if code:
                scanner.scan(code)
        return True

    def _on_textinput(self, _window, text: str) -> bool:
        """A real keyboard's typed text: into the search while it shows, else nowhere."""
        search = self._typing_into()
        if search is not None:
            search.typed(text)
        return True

    def _typing_into(self) -> KioskScreen | None:
        """The search screen (kiosk.ui.screens.ebook_search) while a patron sees it, no
        countdown over it."""
        screen = self.screens.current_screen
        return screen if screen is not None and screen.name == Screen.EBOOK_SEARCH.value \
            and self._overlay is None else None

    # Kivy's settings panel, in case anything still asks for it: never shown.
    def open_settings(self, *_args) -> bool:
        log.info("Kivy's settings panel refused: the kiosk has none")
        return False

    def close_settings(self, *_args) -> bool:
        return False

    def _install_settings_keys(self, window) -> None:
        """Kivy binds F1 to its settings panel here; the kiosk binds nothing."""

    def _on_stop_signal(self, signum: int, _frame) -> None:
        log.info("stopping on %s", signal.Signals(signum).name)
        Clock.schedule_once(lambda _dt: self.stop())

    def _restart(self) -> None:
        self.restart_requested = True
        self.stop()

    def _mark_first_frame(self, *_args) -> None:
        Window.unbind(on_flip=self._mark_first_frame)
        Path(os.environ[FIRST_FRAME_FILE]).write_text(repr(time.time()))
