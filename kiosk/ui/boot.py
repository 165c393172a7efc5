"""Kivy's settings, made before Kivy's window exists: it reads them once, at import. Kivy-free
itself, so the command line can check for a display before loading Kivy."""

from __future__ import annotations

import os
from pathlib import Path

from common.marks import N_
from kiosk import system
from kiosk.config import DisplaySection
from kiosk.errors import KioskError, Said

KMS_CARD = Path("/dev/dri/card0")  # a Pi's screen without X or Wayland: SDL draws through KMS
NO_DISPLAY = N_(
    "no display found. On a Raspberry Pi the kiosk draws straight to the screen through KMS: "
    "{card} must exist, the kiosk's user must be in the groups video and render, and "
    "SDL_VIDEODRIVER=kmsdrm set (kiosk.service does). On a PC, run it in a desktop session "
    "(DISPLAY set), or headless under Xvfb: xvfb-run -a kiosk run --demo")
NO_ACCESS = N_("cannot open {card}: add the kiosk's user to the groups video and render "
               "(usermod -aG video,render USER), then start it again")


def prepare(display: DisplaySection) -> None:
    # Kivy must neither parse our command line, nor read or write ~/.kivy (the root file system
    # may be read-only), nor set up logging of its own: the entry point has done that.
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONFIG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from kivy.config import Config

    # No default binding may leave the kiosk's screens: Escape does not exit, and none of
    # Kivy's modules (inspector: Ctrl+E; keybinding: F11 rotation, F12 screenshots; console,
    # monitor, touchring...) is loaded, whatever a config names. The app swallows every key
    # too (kiosk.ui.app), and refuses Kivy's settings panel (F1).
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    for module in Config.options("modules"):
        Config.remove_option("modules", module)
    # Alt+Tab or a second screen must not minimise a fullscreen kiosk (SDL's default for
    # exclusive fullscreen).
    os.environ.setdefault("SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS", "0")
    Config.set("kivy", "keyboard_mode", "system")
    touch_inputs()
    Config.set("graphics", "width", str(display.width))
    Config.set("graphics", "height", str(display.height))
    Config.set("graphics", "resizable", "0")
    # Kivy turns the picture counter-clockwise; the config says clockwise, as a technician
    # mounting a panel would.
    Config.set("graphics", "rotation", str(kivy_rotation(display.rotation)))
    if fullscreen(display):
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
    # Before any label class is made: one face of each font for every text size.
    from kiosk.ui import shared_face
    shared_face.install()


def touch_inputs() -> None:
    """Where touches come from, each once, and all turned with the picture by the window's
    rotation. Under KMS on a Pi, SDL reads a touchscreen but makes no mouse events of its
    touches (they belong to no window), so Kivy reads the panel itself: probesysfs finds it in
    /sys/class/input and mtdev (libmtdev, which setup.sh installs) turns its multitouch
    protocol B into touches; named here, so that Kivy's guess for old Pis (hidinput, protocol
    A only) never applies. Under X the panel is X's pointer: SDL's mouse events carry it, and
    probesysfs leaves X's pointers alone, so no touch counts twice."""
    from kivy.config import Config

    for provider in Config.options("input"):
        Config.remove_option("input", provider)
    # A long press must not become Kivy's red multitouch-emulation dot.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("input", "%(name)s", "probesysfs,provider=mtdev")


def kivy_rotation(clockwise: int) -> int:
    return (360 - clockwise) % 360


def require_display() -> None:
    """Raise a KioskError saying what to do when there is no screen to draw on."""
    missing = display_missing()
    if missing is not None:
        raise missing


def display_missing() -> KioskError | None:
    if (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("KIVY_WINDOW")):
        return None
    # Over SSH a Pi's /dev/dri/card0 is not the screen in front of the person typing.
    if KMS_CARD.exists() and not os.environ.get("SSH_CONNECTION"):
        if not os.access(KMS_CARD, os.R_OK | os.W_OK):
            return KioskError(Said(NO_ACCESS, card=KMS_CARD))
        return None
    return KioskError(Said(NO_DISPLAY, card=KMS_CARD))


def fullscreen(display: DisplaySection) -> bool:
    if display.fullscreen == "auto":
        return system.is_raspberry_pi()
    return display.fullscreen == "yes"


def show_cursor(display: DisplaySection) -> bool:
    if display.show_cursor == "auto":
        # A Pi's screen is a touchscreen: a pointer there only shows where the last finger was.
        return not system.is_raspberry_pi()
    return display.show_cursor == "yes"
