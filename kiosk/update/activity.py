"""Whether a patron (or staff) is using the kiosk, for the update's restart: the app writes
`/run/kiosk/activity` ({"session": true|false, "since": UTC ISO 8601}) each time a session
starts or ends, and the root step of the pull restarts the kiosk only once it has been idle
for a minute.

The app writes into its own runtime folder (`$RUNTIME_DIRECTORY`, which systemd makes
/run/kiosk for kiosk.service and removes when the app stops); elsewhere (a PC, the tests'
own folder) it writes only where `$RUNTIME_DIRECTORY` says. No file: the app is not running,
so nobody is using it. Written on the app's Kivy thread (a few bytes to a tmpfs, at a
session's start and end); read by `kiosk update apply-downloaded`.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger(__name__)
ACTIVITY_PATH = Path("/run/kiosk/activity")
FILE_NAME = ACTIVITY_PATH.name
IDLE_BEFORE_RESTART_S = 60.0  # nobody at the kiosk for this long: it may restart


@dataclass(frozen=True)
class Activity:
    session: bool
    since: datetime  # UTC, aware

    def idle_for(self, now: datetime) -> float:
        """Seconds without a session at `now` (0 during one)."""
        return 0.0 if self.session else max(0.0, (now - self.since).total_seconds())


class Unreadable(Exception):
    """The file is there but cannot be read: assume someone is using the kiosk."""


def read(path: Path = ACTIVITY_PATH) -> Activity | None:
    """None: no file (the app is not running)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        since = datetime.fromisoformat(str(data["since"]).replace("Z", "+00:00"))
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return Activity(bool(data["session"]), since)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Unreadable(f"{path}: {e}") from None


def read_in_use(path: Path = ACTIVITY_PATH) -> tuple[Activity | None, str | None]:
    """What `read` found, and why the kiosk counts as in use (a session, or a file that cannot
    be read); None for why when nobody is in a session. One wording for the restart and the
    batch that wait for it."""
    try:
        seen = read(path)
    except Unreadable as e:
        return None, f"cannot tell whether the kiosk is in use ({e})"
    if seen is not None and seen.session:
        return seen, f"someone is using the kiosk (since {seen.since.astimezone():%H:%M})"
    return seen, None


def write(path: Path, activity: Activity) -> None:
    text = json.dumps({"session": activity.session,
                       "since": activity.since.astimezone(timezone.utc).isoformat(
                           timespec="seconds").replace("+00:00", "Z")})
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.replace(temp, path)  # a reader sees the old state or the new one


class ActivityFile:
    """The app's side: `seen(session)` after each change of view; writes on changes only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._session: bool | None = None

    @classmethod
    def from_environment(cls) -> ActivityFile:
        folder = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
        return cls(Path(folder) / FILE_NAME if folder else None)

    def seen(self, session: bool, now: datetime | None = None) -> None:
        if self.path is None or session == self._session:
            return
        self._session = session
        try:
            write(self.path, Activity(session, now or datetime.now(timezone.utc)))
        except OSError as e:  # the kiosk serves on; the next change tries again
            self._session = None
            log.warning("%s: cannot note whether the kiosk is in use (%s)", self.path,
                        e.strerror)
