"""What a key on a real keyboard means to the kiosk: pure decisions the app's key handlers ask.

Every key reaches the app (kiosk.ui.app swallows them all, so none of Kivy's own bindings hears
one). A USB keyboard types into the e-book search while that screen shows: its printable text
arrives as SDL text input (shifted letters, digits, even an IME's characters), Backspace and
Enter as key codes. The barcode scanner never gets here: its evdev driver grabs its input nodes
(drivers/evdev_scanner.py), so the X server and SDL never see its keys. In the demo, with no
scanner, keys typed elsewhere are played as a scan (`KeyBuffer`). Main thread only.
"""

from __future__ import annotations

from enum import Enum

MAX_LENGTH = 64  # longer than any card or item code; a stuck key must not grow forever
# SDL key codes as Kivy reports them in on_key_down.
BACKSPACE, ENTER, KEYPAD_ENTER, ESCAPE, DELETE = 8, 13, 271, 27, 127
# Modifiers under which a key is a command, not typing (Ctrl+W, Alt+F4): never typed.
COMMAND_MODIFIERS = frozenset({"ctrl", "alt", "meta"})


class SearchKey(Enum):
    """A key of a real keyboard that edits the search, other than typed text."""
    ERASE = "erase"  # Backspace: the last character
    CLEAR = "clear"  # Delete: the whole query
    DONE = "done"  # Enter: typing is over; the on-screen keyboard gives the results its room


SEARCH_KEYS = {BACKSPACE: SearchKey.ERASE, DELETE: SearchKey.CLEAR, ENTER: SearchKey.DONE,
               KEYPAD_ENTER: SearchKey.DONE}


def search_key(key: int, modifiers: list[str] | tuple[str, ...] = ()) -> SearchKey | None:
    """The search edit a key code means, or None (Escape, arrows, F-keys, Ctrl+...)."""
    if COMMAND_MODIFIERS & set(modifiers):
        return None
    return SEARCH_KEYS.get(key)


def typed_text(text: str) -> str:
    """The part of SDL text input that may go into the search: printable characters only, no
    line breaks or control characters (which some keyboards' odd keys send as text)."""
    return "".join(char for char in text if char.isprintable())


class KeyBuffer:
    """The demo's keyboard scanner: typed characters plus Enter act as one barcode scan."""

    def __init__(self) -> None:
        self._chars: list[str] = []

    def feed(self, char: str | None, enter: bool = False) -> str | None:
        """Add a typed character; on Enter return the code typed so far, if any."""
        if enter:
            code, self._chars = "".join(self._chars), []
            return code or None
        if char and char.isprintable() and len(self._chars) < MAX_LENGTH:
            self._chars.append(char)
        return None
