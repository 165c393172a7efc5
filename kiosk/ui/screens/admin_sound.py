"""The admin screen's sound settings: a button in the admin screen's row of the USB button
("声音 · 音量 70%") that opens a dialog with the volume between - and + (steps of 10), the quiet
hours as the config sets them, whether the kiosk is silent for want of a device, and a test
tone. A dialog, so that the status list keeps all its height on a 7-inch screen.

The button finds its screen (for the language and the translations) by walking up from where
admin.kv puts it, and the player as the app's `sound`, so admin.kv places it with one line.
Changing the volume goes to the player, which keeps it (kiosk.sound.saved). Kivy main thread.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

STEP = 10


class SoundSettingsPanel(BoxLayout):
    """The button on the admin screen, and the state its dialog shows."""
    lang = StringProperty("zh_CN")
    screen = ObjectProperty(None, allownone=True)  # the admin screen it sits on
    volume = NumericProperty(0)
    status = StringProperty("")
    silent = BooleanProperty(False)
    dialog = ObjectProperty(None, allownone=True)

    def on_parent(self, _instance: Any, _parent: Any) -> None:
        screen = self._screen()
        if screen is not None and screen is not self.screen:
            self.screen = screen
            screen.bind(lang=self.setter("lang"), on_leave=lambda *_: self.close())
            self.lang = screen.lang
        self.refresh()

    def _screen(self) -> Any:
        widget = self.parent
        while widget is not None and widget is not widget.parent:
            if hasattr(widget, "tr") and hasattr(widget, "lang"):
                return widget
            widget = widget.parent
        return None

    @staticmethod
    def player() -> Any:
        app = App.get_running_app()
        return getattr(app, "sound", None) if app is not None else None

    def tr(self, lang: str, msgid: str, **args: object) -> str:
        if self.screen is None:
            return msgid.format(**args)
        return self.screen.tr(lang, msgid, **args)

    def on_lang(self, *_args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        player = self.player()
        if player is None:
            self.volume, self.silent = 0, True
            self.status = self.tr(self.lang, "No sound device: the kiosk is silent")
            return
        settings = player.settings
        self.volume = settings.volume
        lines = []
        if not settings.quiet_hours:
            lines.append(self.tr(self.lang, "No quiet hours"))
        elif settings.quiet_volume == 0:
            lines.append(self.tr(self.lang, "Silent from {hours}", hours=settings.quiet_hours))
        else:
            lines.append(self.tr(self.lang, "Quieter from {hours}: {percent}%",
                                 hours=settings.quiet_hours,
                                 percent=min(settings.volume, settings.quiet_volume)))
        if not settings.voice:
            lines.append(self.tr(self.lang, "Spoken prompts are off ([sound] voice)"))
        self.silent = player.broken is not None
        if self.silent:
            lines.append(self.tr(self.lang, "No sound device: the kiosk is silent"))
        self.status = "\n".join(lines)

    def open(self) -> None:
        self.refresh()
        if self.dialog is None:
            self.dialog = SoundDialog(panel=self)
            self.dialog.bind(on_dismiss=lambda *_: setattr(self, "dialog", None))
            self.dialog.open(animation=False)

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.dismiss(animation=False)

    def change(self, steps: int) -> None:
        player = self.player()
        if player is None:
            return
        player.set_volume(round(player.settings.volume / STEP + steps) * STEP)
        self.refresh()
        player.test_tone()  # staff hear the new loudness at once

    def test(self) -> None:
        player = self.player()
        if player is not None:
            player.test_tone()
            self.refresh()


class SoundDialog(ModalView):
    """The controls over the admin screen (admin_sound.kv); `panel` holds what they show."""
    panel = ObjectProperty(None)
