"""Finding the SD card's boot folder and reading the files a technician left on it.

The card is written from any PC, often with Notepad: a byte-order mark and CRLF line ends are
expected, and a file too large or not UTF-8 is a problem to show, not a crash.
"""

from __future__ import annotations

from pathlib import Path

KIOSK_TOML = "kiosk.toml"
CENTRAL_TOKEN = "central.token"
WIFI_TOML = "wifi.toml"
AUTHORIZED_KEYS = "authorized_keys"
CONTENT_SIGNING_KEY = "content-signing.pub"
FILES = (KIOSK_TOML, CENTRAL_TOKEN, WIFI_TOML, AUTHORIZED_KEYS, CONTENT_SIGNING_KEY)
MAX_BYTES = 64 * 1024  # far above any of them; a larger file is not one of ours


class BootFileError(ValueError):
    """A boot-folder file that cannot be read as text; the message says what to do."""


def find(candidates: tuple[Path, ...]) -> Path | None:
    """The first candidate folder holding one of our files, else the first that exists (a
    card with nothing on it), else None. kiosk.config picks kiosk.toml in the same order."""
    folders = [c for c in candidates if c.is_dir()]
    for folder in folders:
        if any((folder / name).is_file() for name in FILES):
            return folder
    return folders[0] if folders else None


def read_text(path: Path) -> str:
    """The file as text, without a byte-order mark and with LF line ends."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise BootFileError(f"cannot read it: {e.strerror}") from None
    if len(data) > MAX_BYTES:
        raise BootFileError(f"larger than {MAX_BYTES // 1024} KB: is it the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BootFileError("not UTF-8 text: save it as UTF-8 (in Notepad: Save as, "
                            "Encoding UTF-8)") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")
