"""What a patron would stumble on in a laid-out widget tree: text cut off by its widget, touch
targets on top of each other or of a label's text, a picture (a QR code, a cover) drawn over
either, touch targets too small for a finger, text too faint to read.

A pure function over Kivy widgets as they are now (positions, texture sizes, colours, canvas
colours); the caller lays the screen out and draws a frame first. tests/test_screen_sizes.py
runs it over every screen at every size the kiosk ships on.
"""

from __future__ import annotations

from dataclasses import dataclass

from kivy.graphics import Color, Rectangle, RoundedRectangle
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

# A finger's 9 mm: 64 px on the 7-inch 800x480 panel, scaled with the window's shorter side
# (the kiosk's type scale grows the same way, kiosk.ui.typescale).
TARGET_PX, DESIGN_SHORT_SIDE = 64, 480
NORMAL_CONTRAST, LARGE_CONTRAST = 4.5, 3.0
LARGE_PX, LARGE_BOLD_PX = 24, 18.7  # WCAG's 18 pt, and 14 pt bold, at 96 dpi
SLACK = 1.0  # px of rounding that is no fault
SQUEEZED_EMS = 3  # a wrapping label narrower than this many characters breaks every word

Rect = tuple[float, float, float, float]  # x, y, right, top in window coordinates
RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class Problem:
    kind: str  # "clipped", "overlap", "small", "contrast"
    text: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.text}"


def min_target(window_size: tuple[float, float]) -> float:
    return TARGET_PX * min(window_size) / DESIGN_SHORT_SIDE


def check(root: Widget, window_size: tuple[float, float]) -> list[Problem]:
    """Every problem in what `root` shows: only widgets that can be seen (not transparent,
    not scrolled out of sight, not of zero size) count."""
    shown = list(_visible(root))
    problems: list[Problem] = []
    targets = [(w, r) for w, r in shown if _target(w) and not _backdrop(w)]
    least = min_target(window_size)
    for widget, rect in shown:
        if isinstance(widget, Label) and widget.text.strip():
            problems += _clipped(widget) + _contrast(widget)
    for widget, _rect in targets:
        if min(widget.width, widget.height) < least - SLACK:
            problems.append(Problem("small", f"{_name(widget)} is {widget.width:.0f}x"
                                    f"{widget.height:.0f}, a finger needs {least:.0f}"))
    buttons = [(w, r) for w, r in targets if isinstance(w, ButtonBehavior)]
    for widget, rect in shown:
        if isinstance(widget, Label) and not isinstance(widget, ButtonBehavior) \
                and widget.text.strip():
            text = _intersect(_text_rect(widget), rect)
            problems += [Problem("overlap", f"{_name(button)} covers {_name(widget)}")
                         for button, r in buttons if text and _overlap(text, r) > SLACK
                         and not _related(button, widget)]
    for i, (a, ra) in enumerate(targets):
        for b, rb in targets[i + 1:]:
            if _overlap(ra, rb) > SLACK and not _related(a, b):
                problems.append(Problem("overlap", f"{_name(a)} and {_name(b)}"))
    problems += _pictures_over(shown, targets)
    return problems


def _pictures_over(shown, targets) -> list[Problem]:
    """A picture drawn over a touch target or a label's text (a layout that ran out of room
    pushes a box past its parent, on top of the screen's header)."""
    problems = []
    texts = [(w, _intersect(_text_rect(w), r)) for w, r in shown
             if isinstance(w, Label) and w.text.strip()]
    for picture, rect in shown:
        if not isinstance(picture, Image) or picture.texture is None:
            continue
        drawn = _intersect(_picture_rect(picture), rect)
        if drawn is None:
            continue
        for other, r in targets + texts:
            if r is not None and _overlap(drawn, r) > SLACK and not _related(picture, other):
                problems.append(Problem("overlap", f"{_name(picture)} covers {_name(other)}"))
    return problems


def _picture_rect(image: Image) -> Rect:
    """Where an Image draws its texture: `norm_image_size`, centred on the widget."""
    x, y, r, t = _window_rect(image)
    w, h = image.norm_image_size
    cx, cy = (x + r) / 2, (y + t) / 2
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _visible(root: Widget):
    """(widget, its visible rectangle in the window) for every widget that shows."""
    def walk(widget: Widget, clip: Rect, opacity: float):
        opacity *= widget.opacity
        if opacity < 0.05:
            return
        rect = _intersect(_window_rect(widget), clip)
        if rect is None:
            return
        yield widget, rect
        inner = rect if isinstance(widget, ScrollView) else clip
        for child in _on_top(list(widget.children)):
            yield from walk(child, inner, opacity)
    yield from walk(root, _window_rect(root), 1.0)


def _on_top(children: list[Widget]) -> list[Widget]:
    """The children a patron can see and touch: from the topmost (Kivy draws children[0]
    last) down to an overlay that covers what is under it, such as the idle countdown."""
    for i, child in enumerate(children):
        if getattr(child, "covers_what_is_under", False) and child.opacity > 0:
            return children[:i + 1]
    return children


def _window_rect(widget: Widget) -> Rect:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def _text_rect(label: Label) -> Rect:
    """Where a label's text is drawn: its texture, centred on the label."""
    x, y, r, t = _window_rect(label)
    tw, th = label.texture_size
    cx, cy = (x + r) / 2, (y + t) / 2
    return cx - tw / 2, cy - th / 2, cx + tw / 2, cy + th / 2


def _intersect(a: Rect, b: Rect) -> Rect | None:
    x, y, r, t = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x, y, r, t) if r - x > SLACK and t - y > SLACK else None


def _overlap(a: Rect, b: Rect) -> float:
    both = _intersect(a, b)
    return 0.0 if both is None else min(both[2] - both[0], both[3] - both[1])


def _target(widget: Widget) -> bool:
    """A button, or a widget that says it takes touches (the staff's corner)."""
    return isinstance(widget, ButtonBehavior) or getattr(widget, "touch_target", False)


def _backdrop(widget: Widget) -> bool:
    """An invisible target ("touch anywhere to start") lies beneath the others on purpose."""
    colour = getattr(widget, "background_color", None)
    return colour is not None and colour[3] == 0 and not getattr(widget, "text", "")


def _related(a: Widget, b: Widget) -> bool:
    def ancestors(w: Widget):
        while w.parent is not None and w.parent is not w:
            w = w.parent
            yield w
    return a in ancestors(b) or b in ancestors(a)


def _name(widget: Widget) -> str:
    text = getattr(widget, "text", "") or ""
    return f"{type(widget).__name__} {text.replace(chr(10), ' ')[:30]!r}"


def _clipped(label: Label) -> list[Problem]:
    wraps = label.text_size[0] is not None
    if wraps and label.width < SQUEEZED_EMS * label.font_size and len(label.text) > SQUEEZED_EMS:
        return [Problem("clipped", f"{_name(label)} wraps in {label.width:.0f} px, "
                        f"{SQUEEZED_EMS} characters' width")]
    if label.shorten and wraps and not getattr(label.parent, "captions_cut_short", False):
        room = label.text_size[0] - label.padding[0] - label.padding[2]
        wide = _one_line_width(label)
        if wide > room + SLACK:
            return [Problem("clipped", f"{_name(label)} is cut short with '…': needs "
                            f"{wide:.0f} px, has {room:.0f}")]
    tw, th = label.texture_size
    if tw > label.width + SLACK or th > label.height + SLACK:
        return [Problem("clipped", f"{_name(label)} needs {tw:.0f}x{th:.0f}, has "
                        f"{label.width:.0f}x{label.height:.0f}")]
    if wraps and label.text_size[1] is not None and not label.shorten and not label.max_lines:
        # A height given to the text drops the lines past it, and the texture shrinks with
        # them: measure the text as tall as it would wrap.
        tall = _wrapped_height(label)
        if tall > label.text_size[1] + SLACK:
            return [Problem("clipped", f"{_name(label)} loses lines: needs {tall:.0f} px "
                            f"high, has {label.text_size[1]:.0f}")]
    return []


def _wrapped_height(label: Label) -> float:
    from kivy.core.text import Label as CoreLabel
    text = CoreLabel(text=label.text, font_size=label.font_size, font_name=label.font_name,
                     bold=label.bold, text_size=(label.text_size[0], None),
                     padding=label.padding, line_height=label.line_height)
    text.refresh()
    return text.content_height


def _one_line_width(label: Label) -> float:
    from kivy.core.text import Label as CoreLabel
    return CoreLabel(text=label.text, font_size=label.font_size, font_name=label.font_name,
                     bold=label.bold).get_extents(label.text)[0]


def faint(root: Widget, ratio: float) -> list[str]:
    """Each text shown on `root` whose contrast is under `ratio`, however large its type:
    the accessibility mode holds every screen to 7:1 (WCAG's enhanced contrast)."""
    return [f"{_name(w)} {_ratio(w):.1f}:1" for w, _rect in _visible(root)
            if isinstance(w, Label) and w.text.strip() and _ratio(w) < ratio]


def _ratio(label: Label) -> float:
    text = label.disabled_color if label.disabled else label.color
    back = _background(label)
    return contrast(_over(_with_opacity(text, _opacity(label)), back), back)


def _contrast(label: Label) -> list[Problem]:
    ratio = _ratio(label)
    large = label.font_size >= LARGE_PX or (label.bold and label.font_size >= LARGE_BOLD_PX)
    need = LARGE_CONTRAST if large else NORMAL_CONTRAST
    if ratio < need:
        return [Problem("contrast", f"{_name(label)} is {ratio:.1f}:1, needs {need}:1")]
    return []


def contrast(a: RGBA, b: RGBA) -> float:
    """WCAG 2's contrast ratio of two opaque colours."""
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _luminance(c: RGBA) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])


def _over(top: RGBA, under: RGBA) -> RGBA:
    a = top[3]
    return (top[0] * a + under[0] * (1 - a), top[1] * a + under[1] * (1 - a),
            top[2] * a + under[2] * (1 - a), 1.0)


def _with_opacity(c, opacity: float) -> RGBA:
    return (c[0], c[1], c[2], c[3] * opacity)


def _opacity(widget: Widget) -> float:
    value = 1.0
    while widget is not None:
        value *= widget.opacity
        widget = None if widget.parent is widget else widget.parent
    return value


def _background(widget: Widget) -> RGBA:
    """The opaque colour behind `widget`'s text: its own flat button colour, else the nearest
    filled rectangle drawn under it (its own or an ancestor's canvas.before, or an earlier
    sibling covering it, as a screen's Paper), else the window's clear colour."""
    from kivy.core.window import Window
    layers: list[RGBA] = []
    current: Widget | None = widget
    while current is not None:
        own = _button_colour(current) if current is widget else None
        if own is not None:
            layers.append(_with_opacity(own, _opacity(current)))
        fill = _fill(current)
        if fill is not None:
            layers.append(_with_opacity(fill, _opacity(current)))
        parent = current.parent if current.parent is not current else None
        if parent is not None:
            for sibling in _drawn_before(parent, current):
                fill = _fill(sibling)
                if fill is not None and _covers(sibling, current):
                    layers.append(_with_opacity(fill, _opacity(sibling)))
                    break
        if layers and layers[-1][3] >= 0.999:
            break
        current = parent
    colour: RGBA = tuple(Window.clearcolor[:3]) + (1.0,)  # type: ignore[assignment]
    for layer in reversed(layers):
        colour = _over(layer, colour)
    return colour


def _button_colour(widget: Widget) -> RGBA | None:
    """A Button's own background: flat (background image '') or Kivy's grey image, tinted."""
    if not hasattr(widget, "background_color") or not hasattr(widget, "background_normal"):
        return None
    tint = tuple(widget.background_color)
    image = widget.background_disabled_normal if widget.disabled else widget.background_normal
    base = (1.0, 1.0, 1.0) if image == "" else (0.35, 0.35, 0.35)
    return (base[0] * tint[0], base[1] * tint[1], base[2] * tint[2], tint[3])


def _fill(widget: Widget) -> RGBA | None:
    """The colour of the first rectangle a widget draws under its content (its canvas.before:
    a Label's own canvas holds its text, an Image's its picture)."""
    if widget.canvas.before is None:
        return None
    colour = None
    for instruction in widget.canvas.before.children:
        if isinstance(instruction, Color):
            colour = tuple(instruction.rgba)
        elif isinstance(instruction, (Rectangle, RoundedRectangle)) and colour is not None \
                and _fills(instruction, widget):
            return colour  # type: ignore[return-value]
    return None


def _fills(shape, widget: Widget) -> bool:
    """Whether a rectangle covers most of its widget (not an accent bar down one side)."""
    w, h = shape.size
    return w >= widget.width * 0.5 and h >= widget.height * 0.5


def _drawn_before(parent: Widget, child: Widget):
    # Kivy draws children last to first: those after `child` in the list are beneath it,
    # the nearest first.
    siblings = list(parent.children)
    return siblings[siblings.index(child) + 1:] if child in siblings else []


def _covers(a: Widget, b: Widget) -> bool:
    ra, rb = _window_rect(a), _window_rect(b)
    return ra[0] <= rb[0] + SLACK and ra[1] <= rb[1] + SLACK and ra[2] >= rb[2] - SLACK \
        and ra[3] >= rb[3] - SLACK
