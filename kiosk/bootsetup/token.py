"""`central.token` on the boot folder: checked, moved to the kiosk's token path, then deleted.

The token lets a kiosk upload to the central server; it must not stay on a card anyone can read
in a PC. It is written (kiosk:kiosk 0600, synced) before it is deleted from the card, so a
power cut between the two leaves it in both places, never in neither. Never logged.
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.bootsetup import boot_folder, files
from kiosk.bootsetup.boot_folder import CENTRAL_TOKEN, BootFileError
from kiosk.bootsetup.outcome import Outcome

MIN_LENGTH, MAX_LENGTH = 16, 512
TOKEN_MODE = 0o600


def parse(text: str) -> str:
    """The token from the file's text; raises BootFileError saying what is wrong (never
    quoting the token)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        raise BootFileError("the file is empty: copy the token that 'kiosk-central kiosk add' "
                            "printed into it")
    if len(lines) > 1:
        raise BootFileError(f"{len(lines)} lines: the file must hold the token alone, on one line")
    token = lines[0]
    if not MIN_LENGTH <= len(token) <= MAX_LENGTH:
        raise BootFileError(f"{len(token)} characters, a token has {MIN_LENGTH} to {MAX_LENGTH}: "
                            "copy the whole token, and nothing else")
    if not all(33 <= ord(c) <= 126 for c in token):
        raise BootFileError("holds spaces or characters a token never has: copy the token "
                            "again, and nothing else")
    return token


def install(boot_dir: Path | None, destination: Path, owner: tuple[int, int] | None,
            outcome: Outcome) -> None:
    source = boot_dir / CENTRAL_TOKEN if boot_dir is not None else None
    if source is None or not source.is_file():
        return
    try:
        token = parse(boot_folder.read_text(source))
    except BootFileError as e:
        outcome.problem(CENTRAL_TOKEN, f"{e}; the file is left on the boot folder")
        return
    data = (token + "\n").encode("ascii")
    previous = files.read_bytes(destination)
    try:
        if not destination.parent.is_dir():
            destination.parent.mkdir(mode=0o700, parents=True)
            if owner is not None:
                os.chown(destination.parent, *owner)
        files.write_atomically(destination, data, mode=TOKEN_MODE, owner=owner)
    except OSError as e:
        outcome.problem(CENTRAL_TOKEN, f"cannot store it as {destination}: {e.strerror}; it is "
                                       "left on the boot folder (is the data partition full or "
                                       "read-only?)")
        return
    if previous is None:
        what = f"central server token installed as {destination}"
    elif previous == data:
        what = f"central server token on the boot folder is the one already in {destination}"
    else:
        what = (f"central server token replaced in {destination} by the new one from the boot "
                "folder (the previous token is no longer used)")
    try:
        files.remove(source)
    except OSError as e:
        outcome.problem(CENTRAL_TOKEN, f"stored as {destination}, but cannot be deleted from the "
                                       f"boot folder: {e.strerror}; delete it by hand (it is a "
                                       "secret)")
        return
    outcome.changed(f"{what}; deleted from the boot folder")
