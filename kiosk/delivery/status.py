"""What the kiosk says about each kind of delivery: one small JSON file per kind
(`<data_dir>/delivery/<kind>/status.json`), written by the pull and its root step, read by the
heartbeat (its `delivery` field), `kiosk doctor` and `kiosk update status`."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path

from common.versions import parse_version
from kiosk.delivery.jsonfile import read_json, write_json
from kiosk.delivery.releases import ReleaseKind

log = logging.getLogger(__name__)
FOLDER = "delivery"
STATUS_NAME = "status.json"
MAX_WHY = 500  # characters of `why` the heartbeat carries


class DeliveryState(StrEnum):
    IDLE = "idle"                # nothing to fetch: none published, or this version or newer runs
    DOWNLOADING = "downloading"  # under way, or cut off and resumed next time
    DOWNLOADED = "downloaded"    # complete and verified; installed next
    INSTALLED = "installed"      # installed (in the other slot): the restart comes next
    FAILED = "failed"            # see why
    WAITING = "waiting"          # installed, but the kiosk was in use until the window ended


@dataclass(frozen=True)
class DeliveryStatus:
    state: DeliveryState
    version: str | None = None
    done_bytes: int | None = None
    total_bytes: int | None = None
    why: str | None = None
    at: str = ""                        # UTC, ISO 8601, when this was written
    sha256: str | None = None           # the release's file
    refused_sha256: str | None = None   # a file the installer refused: not fetched again

    def heartbeat(self) -> dict:
        """The heartbeat's `delivery.<kind>` object (the contract's fields only)."""
        return {"version": self.version, "state": str(self.state),
                "done_bytes": self.done_bytes, "total_bytes": self.total_bytes,
                "why": self.why[:MAX_WHY] if self.why else None, "at": self.at}

    @property
    def pending(self) -> bool:
        """An update is on its way to this kiosk (or stuck): worth a line in the doctor."""
        return self.state not in (DeliveryState.IDLE,)


def as_running(status: DeliveryStatus, booted: str | None) -> DeliveryStatus:
    """An installed update the kiosk now runs (it restarted into it, and the pull has not
    been back since to say so) is reported as done."""
    if status.state not in (DeliveryState.INSTALLED, DeliveryState.WAITING) or not booted:
        return status
    try:
        running = parse_version(booted) == parse_version(status.version or "")
    except ValueError:
        running = booted == status.version
    return replace(status, state=DeliveryState.IDLE,
                   why=f"{status.version} runs here") if running else status


def folder(data_dir: Path, kind: ReleaseKind) -> Path:
    return data_dir / FOLDER / str(kind)


def read(data_dir: Path, kind: ReleaseKind) -> DeliveryStatus | None:
    """The last status written, or None (never pulled, or unreadable)."""
    data = read_json(folder(data_dir, kind) / STATUS_NAME)
    if data is None:
        return None
    try:
        return DeliveryStatus(**{**data, "state": DeliveryState(data["state"])})
    except (KeyError, TypeError, ValueError) as e:
        log.error("%s: cannot be read (%s)", folder(data_dir, kind) / STATUS_NAME, e)
        return None


def write(data_dir: Path, kind: ReleaseKind, status: DeliveryStatus) -> DeliveryStatus:
    """Stamps `at` and writes the file; a file that cannot be written is logged, not raised
    (the status is a report: the work it reports goes on)."""
    status = replace(status, at=utc_now())
    where = folder(data_dir, kind)
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_json(where / STATUS_NAME, {**asdict(status), "state": str(status.state)})
    except OSError as e:
        log.error("%s: the delivery status cannot be written (%s)", where / STATUS_NAME,
                  e.strerror)
    return status


def heartbeat_field(data_dir: Path, system_version: str | None) -> dict | None:
    """The heartbeat's `delivery` object, or None when nothing was ever pulled."""
    found = {}
    for kind in ReleaseKind:
        status = read(data_dir, kind)
        if status is not None:
            if kind is ReleaseKind.SYSTEM:
                status = as_running(status, system_version)
            found[str(kind)] = status.heartbeat()
    return found or None


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
