"""Widgets shared by the screens: big buttons, the staff corner, overlays, the demo tray."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui import palette, typescale


class BigButton(Button):
    """A large, high-contrast touch target (at least 64 px high on an 800x480 screen)."""
    tint = ColorProperty((0.09, 0.45, 0.55, 1))
    # Its label on one line, unwrapped, for a button sized to its label
    # (`width: self.texture_size[0] + 40`); otherwise the label wraps to the button's width.
    one_line = BooleanProperty(False)


class HeadingLabel(Label):
    """A one-line heading at `largest` size where it fits its width, made smaller where it
    does not (a long English title on a portrait panel), down to `SMALLEST_SHARE` of it;
    only past that is it cut short with "…", which kiosk.ui.layout_check reports."""
    SMALLEST_SHARE = 0.6
    largest = NumericProperty(32)

    def on_kv_post(self, base_widget) -> None:
        self.fbind("text", self._fit)
        self.fbind("width", self._fit)
        self.fbind("largest", self._fit)
        self.fbind("font_name", self._fit)
        self._fit()

    def _fit(self, *_args) -> None:
        room, wide = self._room(), self._width_of(self.text)
        # A little under the measured share: glyphs at a smaller size are not exactly smaller.
        share = 1.0 if wide <= room or wide <= 0 else max(self.SMALLEST_SHARE, 0.96 * room / wide)
        self.font_size = self.largest * share

    def fits(self, text: str) -> bool:
        """Whether `text` would show whole here, at the smallest size this heading takes."""
        return 0.96 * self._width_of(text) * self.SMALLEST_SHARE <= self._room()

    def _room(self) -> float:
        return self.width - self.padding[0] - self.padding[2]  # left, right

    def _width_of(self, text: str) -> float:
        from kivy.core.text import Label as CoreLabel
        return CoreLabel(text=text, font_size=self.largest,
                         font_name=self.font_name).get_extents(text)[0]


class StaffCorner(Widget):
    """An invisible corner that asks for the staff PIN after a long press.

    It keeps the touch so that a patron's tap in the corner does nothing at all.
    """
    touch_target = True  # no button, yet it takes touches: kiosk.ui.layout_check counts it
    hold_s = NumericProperty(3.0)
    action = ObjectProperty(None)  # called when the press lasted hold_s

    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        touch.ud["staff_corner"] = Clock.schedule_once(lambda dt: self._fire(), self.hold_s)
        return True

    def on_touch_up(self, touch):
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        touch.ud["staff_corner"].cancel()
        return True

    def _fire(self) -> None:
        if self.action:
            self.action()


class CountdownOverlay(FloatLayout):
    """Covers the screen to ask "still there?"; any touch on it keeps the session."""
    covers_what_is_under = True  # kiosk.ui.layout_check looks at this alone while it shows
    question = StringProperty("")
    explanation = StringProperty("")
    button_text = StringProperty("")
    keep = ObjectProperty(lambda: None)

    def on_touch_down(self, touch):
        super().on_touch_down(touch)
        return True  # nothing under the question may be pressed by accident


class NoticeBar(Label):
    """A line across the bottom of the screen for short messages (a scan was read)."""
    back = ColorProperty((0, 0, 0, 1))
    back_name = StringProperty("NOTICE_BAR")  # its background's name in the palette
    type_size = StringProperty("body")  # its size's name on the type scale

    def restyle(self) -> None:
        """The type and palette in use now: the root's bars are not made anew with the
        screens when the accessibility mode changes, and kv read both once."""
        self.font_size = typescale.SIZES[self.type_size]
        self.back = palette.colour(self.back_name)


class DemoTray(BoxLayout):
    """Demo mode only: sample cards and books; tapping one scans it on the simulated scanner."""
    title = StringProperty("")

    def fill(self, samples, scan) -> None:
        box = self.ids.samples
        box.clear_widgets()
        for sample in samples:
            tint = (0.55, 0.27, 0.45, 1) if sample.kind == "card" else (0.2, 0.45, 0.3, 1)
            button = _tray_button(sample.label, tint)
            button.bind(on_release=lambda _b, code=sample.code: scan(code))
            box.add_widget(button)

    def add_tags(self, pad) -> None:
        """Buttons that put a simulated RFID tag on the pad, or lift it off again."""
        for tag in pad.tags.values():
            button = _tray_button("RFID " + (tag.label or tag.uid[-4:]), (0.3, 0.35, 0.45, 1))
            button.bind(on_release=lambda b, uid=tag.uid: self._toggle(pad, uid, b))
            self._tint(button, on_pad=tag.uid in pad.on_pad)
            self.ids.samples.add_widget(button)

    def restyle(self) -> None:
        """The buttons' faces in the palette in use now (face() reads it as a tint changes)."""
        for button in self.ids.samples.children:
            button.property("tint").dispatch(button)

    def _toggle(self, pad, uid: str, button) -> None:
        on_pad = uid not in pad.on_pad
        (pad.place if on_pad else pad.remove)(uid)
        self._tint(button, on_pad)

    @staticmethod
    def _tint(button, on_pad: bool) -> None:
        # Dark amber while the tag lies on the pad (white on it reads), slate while it is off.
        button.tint = (0.68, 0.34, 0.04, 1) if on_pad else (0.3, 0.35, 0.45, 1)


def _tray_button(text: str, tint) -> BigButton:
    """A sample on one line, as wide as its label: a fixed width wrapped "Card · 李芳" into
    lines the tray's height cut off at large sizes."""
    button = BigButton(text=text, tint=tint, one_line=True, size_hint_x=None,
                       font_size=typescale.SIZES["small"])
    button.bind(texture_size=lambda b, size: setattr(
        b, "width", max(typescale.PX["target"], size[0] + 3 * typescale.PX["gap"])))
    return button
