"""The kiosk's system as a technician reads it: the booted slot and its version, the other
slot, and whether the last update is on trial or fell back. Built from `rauc status`,
/etc/kiosk-release and the kernel's command line; a kiosk installed with `./setup.sh install`
(no RAUC configuration) is told apart with what to do instead."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from common.marks import N_
from kiosk.commands import Runner
from kiosk.errors import KioskError, Said
from kiosk.update import rauc
from kiosk.update import release as kiosk_release
from kiosk.update.rauc import RaucStatus, Slot

RAUC_CONF = Path("/etc/rauc/system.conf")
NOT_FROM_IMAGE = Said(N_("this kiosk was installed with setup.sh install, not from the SD-card "
                         "image: update it with ./setup.sh install again"))


class NotFromImage(KioskError):
    """No RAUC configuration: updates are `./setup.sh install`, not bundles."""

    def __init__(self) -> None:
        super().__init__(NOT_FROM_IMAGE)


class UpdateState(StrEnum):
    OK = "ok"                # the booted slot is good and no newer install failed
    TRIAL = "trial"          # booted on trial: not yet marked good (kiosk.service not ready)
    FELL_BACK = "fell_back"  # the other slot got a newer install, failed, and U-Boot fell back


@dataclass(frozen=True)
class UpdatePaths:
    rauc_conf: Path = RAUC_CONF
    release: Path = kiosk_release.RELEASE_PATH
    cmdline: Path = kiosk_release.CMDLINE_PATH

    @property
    def from_image(self) -> bool:
        return self.rauc_conf.exists()


@dataclass(frozen=True)
class SystemView:
    slot: str | None                 # the booted slot's bootname (A or B)
    release: kiosk_release.Release | None  # what the booted root says it is
    booted: Slot | None
    other: Slot | None
    state: UpdateState

    @property
    def version(self) -> str | None:
        if self.release is not None:
            return self.release.version
        return self.booted.bundle_version if self.booted else None


def assess(status: RaucStatus, slot: str | None) -> UpdateState:
    """TRIAL while the booted slot is bad (U-Boot's counter ran out on this very boot, and
    nothing marked it good yet); FELL_BACK when the other slot was installed more recently
    than the booted one and is bad: its trial boot failed and U-Boot came back here."""
    booted, other = status.slot(slot), status.other(slot)
    if booted is not None and booted.boot_good is False:
        return UpdateState.TRIAL
    if (other is not None and other.boot_good is False and other.installed_at is not None
            and (booted is None or booted.installed_at is None
                 or other.installed_at > booted.installed_at)):
        return UpdateState.FELL_BACK
    return UpdateState.OK


def read_view(status: RaucStatus, paths: UpdatePaths = UpdatePaths()) -> SystemView:
    slot = status.booted or kiosk_release.read_boot_slot(paths.cmdline)
    return SystemView(slot, kiosk_release.read_release(paths.release), status.slot(slot),
                      status.other(slot), assess(status, slot))


def gather(runner: Runner, paths: UpdatePaths = UpdatePaths()) -> SystemView:
    """Raises NotFromImage on a `setup.sh install` kiosk, rauc.RaucError when rauc fails."""
    if not paths.from_image:
        raise NotFromImage()
    return read_view(rauc.read_status(runner), paths)
