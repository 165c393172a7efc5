"""The staff PIN's lockout kept in the data folder, so that a restart allows no new guesses.

`pin-lockout.json` holds the wrong PINs counted so far and, while locked, until when (wall-clock
seconds, as it must outlive the process). Written whole and atomically (kiosk.delivery.jsonfile).
A file that cannot be read or makes no sense means "locked for lockout_s", never "unlocked";
a wall clock that went back since the file was written cannot be trusted to end a lockout, and
no lockout outlasts lockout_s from now. Runs on the runtime's thread (the Kivy main thread).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Config
from kiosk.delivery.jsonfile import write_json

log = logging.getLogger(__name__)
FILE_NAME = "pin-lockout.json"
CLOCK_SLACK_S = 5.0  # a clock stepped back by less than this (NTP's slewing) is trusted


@dataclass(frozen=True)
class PinLockout:
    failures: int = 0  # wrong PINs since the last right one or the last lockout
    locked_for_s: float = 0.0  # seconds from now; 0: not locked


def path_for(config: Config) -> Path:
    return config.data_dir / FILE_NAME


def load(path: Path, lockout_s: float, *, now: float | None = None) -> PinLockout:
    """What the file says, as seconds left from `now` (time.time())."""
    now = time.time() if now is None else now
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PinLockout()
    except (OSError, UnicodeDecodeError) as e:
        log.error("%s: cannot be read (%s): the staff PIN stays locked for %g s", path, e,
                  lockout_s)
        return PinLockout(0, lockout_s)
    try:
        data = json.loads(text)
        failures, locked_until = int(data["failures"]), float(data["locked_until"])
        written_at = float(data["written_at"])
        if failures < 0 or not all(map(math.isfinite, (locked_until, written_at))):
            raise ValueError("a negative count or a time that is not a number")
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        log.error("%s: damaged (%s): the staff PIN stays locked for %g s", path, e, lockout_s)
        return PinLockout(0, lockout_s)
    if locked_until <= written_at:
        return PinLockout(failures)
    if now < written_at - CLOCK_SLACK_S:
        log.warning("%s: the clock is before the lockout was written: locked for %g s", path,
                    lockout_s)
        return PinLockout(failures, lockout_s)
    return PinLockout(failures, max(0.0, min(locked_until - now, lockout_s)))


def save(path: Path, lockout: PinLockout, *, now: float | None = None) -> None:
    """Raises OSError when it cannot be written (the previous file then stays)."""
    now = time.time() if now is None else now
    write_json(path, {"failures": lockout.failures, "written_at": now,
                      "locked_until": now + lockout.locked_for_s})
