"""The heartbeat: the kiosk's health in one small JSON body, so staff see a dead kiosk first.

The app is another process, so devices are taken as `kiosk doctor` takes them when the app is
not asked: whether each configured device is plugged in. Everything here is cheap (one TCP
connect to the ILS at most, a few files read, `rauc status` on a kiosk flashed from the image).
Run by the uploader process.
"""

from __future__ import annotations

from datetime import datetime, timezone

from drivers import discovery
from kiosk import __version__, commands, status, system
from kiosk.commands import Runner
from kiosk.config import Config
from kiosk.delivery import status as delivery_status
from kiosk.errors import KioskError
from kiosk.update import release
from kiosk.update import state as update_state
from kiosk.update.state import UpdatePaths
from kiosk.upload.catalogue_titles import current_version
from kiosk.upload.state import UploadState

STATES = {True: "ok", False: "fault", None: "not_set_up"}
MAX_ERROR = 2000  # characters of the last error the server keeps


def heartbeat_body(config: Config, state: UploadState, unsent_rows: int, *,
                   runner: Runner = commands.run,
                   update_paths: UpdatePaths = UpdatePaths()) -> dict:
    """The JSON body of POST /api/v1/heartbeat."""
    free = system.disk_free(config.data_dir)
    slots = system_update(runner, update_paths)
    return {
        "kiosk_id": config.kiosk.id,
        "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "version": __version__,
        "boot_id": system.boot_id(),
        "clock_synced": system.clock_synchronised(),
        "uptime_s": int(system.uptime_s()),
        "devices": devices(config),
        "ils": STATES[status.check_ils(config).ok],
        "disk_free_mb": free[0] // (1024 * 1024) if free else 0,  # unknown only off Linux
        "unsent_rows": unsent_rows,
        "last_upload_utc": state.last_upload_utc,
        "last_error": state.last_error[:MAX_ERROR] if state.last_error else None,
        "catalogue": catalogue_version(config),
        **slots,
        **delivery_field(config, slots["system_version"]),
    }


def devices(config: Config) -> dict[str, dict[str, str]]:
    if not config.devices:
        return {}
    attached = discovery.attached()[0]
    found = {}
    for name, source in sorted(config.devices.items()):
        check = status.check_device(name, source, None, attached)
        found[name] = {"state": STATES[check.ok], "detail": check.summary.english}
    return found


def catalogue_version(config: Config) -> str | None:
    current = current_version(config.catalogue_dir)
    return current.name if current is not None else None


def delivery_field(config: Config, system_version: str | None) -> dict[str, dict]:
    """`delivery`: what the pulls from the central server did last, by kind (kiosk.delivery);
    left out on a kiosk that never pulled."""
    found = delivery_status.heartbeat_field(config.data_dir, system_version)
    return {"delivery": found} if found else {}


def system_update(runner: Runner, paths: UpdatePaths) -> dict[str, str | None]:
    """The root's version (/etc/kiosk-release), the booted slot and the last update's state
    (ok, trial, fell_back); None where unknown, all three on a `setup.sh install` kiosk."""
    try:
        view = update_state.gather(runner, paths)
    except KioskError:  # not from the image, or rauc not answering: version and slot still
        return {"system_version": getattr(release.read_release(paths.release), "version", None),
                "slot": release.read_boot_slot(paths.cmdline), "update": None}
    return {"system_version": view.version, "slot": view.slot, "update": str(view.state)}
