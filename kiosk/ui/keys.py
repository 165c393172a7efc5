"""The demo's keyboard scanner: typed characters plus Enter act as one barcode scan."""

from __future__ import annotations

MAX_LENGTH = 64  # longer than any card or item code; a stuck key must not grow forever


class KeyBuffer:
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
