"""Kivy's settings, made before Kivy's window exists: it reads them once, at import."""

from __future__ import annotations

import os

from kiosk import system
from kiosk.config import DisplaySection


def prepare(display: DisplaySection) -> None:
    # Kivy must neither parse our command line, nor read or write ~/.kivy (the root file system
    # may be read-only), nor set up logging of its own: the entry point has done that.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    # A touchscreen must not turn a long press into Kivy's red multitouch-emulation dot.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "width", str(display.width))
    Config.set("graphics", "height", str(display.height))
    Config.set("graphics", "resizable", "0")
    if fullscreen(display):
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")


def fullscreen(display: DisplaySection) -> bool:
    if display.fullscreen == "auto":
        return system.is_raspberry_pi()
    return display.fullscreen == "yes"


def show_cursor(display: DisplaySection) -> bool:
    if display.show_cursor == "auto":
        # A Pi's screen is a touchscreen: a pointer there only shows where the last finger was.
        return not system.is_raspberry_pi()
    return display.show_cursor == "yes"
