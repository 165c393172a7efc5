"""kiosk.ui.layout_check's arithmetic: WCAG contrast and the finger-sized minimum per window
(the checker over real screens: tests/test_screen_sizes.py)."""

from __future__ import annotations

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


def test_an_overlay_that_covers_the_screen_hides_what_is_under_it():
    """The idle countdown over the account screen: its button may lie where Renew all does,
    which no one can touch while it shows; without the overlay the two overlap."""
    from kivy.uix.button import Button
    from kivy.uix.widget import Widget

    from kiosk.ui.layout_check import check

    class Overlay(Widget):
        covers_what_is_under = True

    screen = Widget(size=(800, 480))
    under = Button(pos=(100, 100), size=(200, 100))
    screen.add_widget(under)
    overlay = Overlay(size=(800, 480))
    overlay.add_widget(Button(pos=(150, 120), size=(200, 100)))
    screen.add_widget(overlay)
    assert check(screen, (800, 480)) == []
    overlay.covers_what_is_under = False
    assert [p.kind for p in check(screen, (800, 480))] == ["overlap"]
