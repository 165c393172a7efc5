"""The volume staff set on the admin screen, kept in `data_dir/sound.json` so a restart keeps
it; it wins over `[sound] volume` until staff change it again. Written whole and atomically
(kiosk.delivery.jsonfile); a missing or damaged file means the config's volume. Runs on the Kivy
main thread (a few hundred bytes, when staff press a button).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from kiosk.delivery.jsonfile import read_json, write_json
from kiosk.sound.settings import SoundSettings

log = logging.getLogger(__name__)
FILE_NAME = "sound.json"


def applied(settings: SoundSettings, path: Path) -> SoundSettings:
    """`settings` with the staff's volume from `path` over the config's, when there is one."""
    data = read_json(path)
    volume = data.get("volume") if data else None
    if isinstance(volume, int) and not isinstance(volume, bool) and 0 <= volume <= 100:
        return replace(settings, volume=volume)
    if data is not None:
        log.warning("%s: no volume from 0 to 100 in it; the config's volume is used", path)
    return settings


def keep(path: Path, volume: int) -> None:
    """Save staff's volume; a file that cannot be written is logged (it lasts this run)."""
    try:
        write_json(path, {"volume": volume})
    except OSError as e:
        log.error("%s: cannot be written (%s): the volume lasts until the kiosk restarts",
                  path, e)
