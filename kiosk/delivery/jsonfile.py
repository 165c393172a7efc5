"""Small JSON state files written whole: a temporary file, synced, renamed over the old one,
the folder synced, so a power cut leaves the old state or the new one, never half of either.
The temporary file is made afresh (never opened through a link left in its place).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from common.files import fsync_dir

log = logging.getLogger(__name__)


def write_json(path: Path, data: dict) -> None:
    """Raises OSError when the file cannot be written (the old one then stays)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        temp.unlink(missing_ok=True)  # one left by a killed run
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
        fsync_dir(path.parent)
    except OSError:
        temp.unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict | None:
    """The object in `path`; None when there is none. A damaged file is logged and read as
    none: these files only note progress, which can be made again."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.error("%s: cannot be read (%s); starting afresh", path, e)
        return None
    if not isinstance(data, dict):
        log.error("%s: not a JSON object; starting afresh", path)
        return None
    return data
