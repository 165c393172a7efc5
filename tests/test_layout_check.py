"""kiosk.ui.layout_check's arithmetic: WCAG contrast and the finger-sized minimum per window
(the checker over real screens: tests/test_screen_sizes.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.ui.layout_check import contrast, min_target

WHITE, BLACK = (1.0, 1.0, 1.0, 1.0), (0.0, 0.0, 0.0, 1.0)


def test_contrast_is_wcags_ratio():
    assert contrast(WHITE, BLACK) == pytest.approx(21.0)
    assert contrast(BLACK, WHITE) == pytest.approx(21.0)
    assert contrast(WHITE, WHITE) == pytest.approx(1.0)
    # The old white-on-orange language button, as the issue measured it.
    assert contrast(WHITE, (0.85, 0.55, 0.18, 1.0)) == pytest.approx(2.7, abs=0.05)


@pytest.mark.parametrize("size, least", [((800, 480), 64), ((1024, 600), 80),
                                         ((720, 1280), 96), ((1920, 1080), 144)])
def test_a_finger_needs_64_px_on_the_7_inch_panel_scaled_with_the_shorter_side(size, least):
    assert min_target(size) == pytest.approx(least)


def drawn(script: str) -> list[str]:
    """What `script` prints, run with Kivy in a process of its own: a widget's text makes
    Kivy's one window on first use, which the in-process UI tests (tests/embedded_kiosk.py)
    would then find at the wrong size."""
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_CONFIG="1", KIVY_NO_FILELOG="1")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


OVERLAY = """
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from kiosk.ui.layout_check import check

class Overlay(Widget):
    covers_what_is_under = True

screen = Widget(size=(800, 480))
screen.add_widget(Button(pos=(100, 100), size=(200, 100)))
overlay = Overlay(size=(800, 480))
overlay.add_widget(Button(pos=(150, 120), size=(200, 100)))
screen.add_widget(overlay)
print([p.kind for p in check(screen, (800, 480))])
overlay.covers_what_is_under = False
print([p.kind for p in check(screen, (800, 480))])
"""


def test_an_overlay_that_covers_the_screen_hides_what_is_under_it():
    """The idle countdown over the account screen: its button may lie where Renew all does,
    which no one can touch while it shows; without the overlay the two overlap."""
    assert drawn(OVERLAY) == ["[]", "['overlap']"]


FAINT = """
from kivy.graphics import Color, Rectangle
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.layout_check import faint

screen = Widget(size=(800, 480))
with screen.canvas.before:
    Color(1, 1, 1, 1)
    Rectangle(pos=(0, 0), size=(800, 480))
screen.add_widget(Label(text="Grey", color=(0.4, 0.4, 0.4, 1), font_size=40, pos=(0, 0)))
screen.add_widget(Label(text="Black", color=(0, 0, 0, 1), font_size=20, pos=(200, 0)))
for line in faint(screen, 7.0):
    print(line)
"""


def test_faint_names_each_text_under_the_ratio_asked_however_large():
    """The accessibility mode's 7:1: a large grey heading passes check()'s 3:1 but not this."""
    found = drawn(FAINT)
    assert len(found) == 1 and "'Grey'" in found[0] and "5.7:1" in found[0]


# Where each high-contrast colour meets another: text on a background.
PAIRS = [("INK", "PAPER"), ("INK", "ROW"), ("QUIET", "ROW"), ("QUIET", "PAPER"),
         ("HINT", "PAPER"), ("ATTENTION", "PAPER"), ("ERROR", "PAPER"), ("WHITE", "BANNER"),
         ("WHITE", "COVER"), ("WHITE", "NOTICE_BAR"), ("WHITE", "TEAL"), ("SOFT", "TEAL")]


@pytest.mark.parametrize("text, back", PAIRS)
def test_the_high_contrast_palette_pairs_stand_out_7_to_1(text, back):
    from kiosk.ui.palette import HIGH_CONTRAST, HIGH_CONTRAST_RATIO

    colours = {**HIGH_CONTRAST, "WHITE": WHITE}
    assert contrast(colours[text], colours[back]) >= HIGH_CONTRAST_RATIO


LOST_LINES = """
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.layout_check import check

screen = Widget(size=(800, 480))
words = "请扫描读者证或手机电子读者证，或用下面的数字键输入读者证号"
prompt = Label(text=words, font_size=24, size=(200, 40), text_size=(200, 40))
screen.add_widget(prompt)
prompt.texture_update()
print([p.kind for p in check(screen, (800, 480))])
prompt.size = prompt.text_size = (200, 400)
prompt.texture_update()
print([p.kind for p in check(screen, (800, 480))])
"""


def test_text_given_a_height_it_overflows_loses_lines_and_is_reported():
    """Kivy draws only the lines that fit a label's text_size height, and its texture shrinks
    with them: the prompt on the identify screen showed its first line alone."""
    assert drawn(LOST_LINES) == ["['clipped']", "[]"]
