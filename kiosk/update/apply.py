"""`kiosk update apply-downloaded`, the root step of kiosk-pull.service (`ExecStart=+`,
after `kiosk update pull`): installs the downloaded system update with RAUC, which checks its
signature against the kiosk's keyring (and the pre-install handler its version), then restarts
the kiosk into it, on trial, only when nobody is using it.

The restart waits until the app's activity file (kiosk.update.activity) says no session for a
minute, and happens only inside the update window; when the window ends first, it waits for the
next night (the pull's next run finds the update installed and this step tries again). A bundle
is installed once: it is deleted afterwards, and one RAUC refused is remembered by its sha256 so
that it is not downloaded again. Runs on the calling thread; sleeps between looks.

The download folder and the activity file belong to the kiosk user, who could plant symbolic
links there: every file this root step reads, writes or deletes there it handles with the
kiosk user's rights (`as_user`), and the bundle is opened without following a link before it
is made root's. Only `rauc` and `systemctl` run as root.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from enum import StrEnum
from functools import partial
from pathlib import Path

from common.marks import N_
from common.versions import is_older, parse_version
from kiosk import commands
from kiosk.commands import Runner
from kiosk.config import Config
from kiosk.delivery import download
from kiosk.delivery import status as delivery
from kiosk.delivery.status import DeliveryState, DeliveryStatus
from kiosk.errors import Said
from kiosk.update import activity, rauc, state
from kiosk.update.pull import KIND, download_folder
from kiosk.update.rauc import RaucError
from kiosk.update.state import SystemView, UpdatePaths, UpdateState
from kiosk.update.window import parse_window

log = logging.getLogger(__name__)

# Results a technician reads (`kiosk update apply-downloaded`), in their language there.
NOTHING_TO_APPLY = N_("{why}; nothing to apply")
NONE_DOWNLOADED = N_("no system update has been downloaded")
NONE_WAITING = N_("no update is waiting in the other slot (this is {version})")

INSTALL_TIMEOUT_S = 3600.0  # a 1 GB slot written to a slow SD card
LOOK_EVERY_S = 15.0         # how often the restart looks again whether the kiosk is in use
REBOOT_ARGV = ("systemctl", "reboot")


class ApplyOutcome(StrEnum):
    NOT_FROM_IMAGE = "not from the image"
    NOTHING = "nothing to install"
    INSTALL_FAILED = "install failed"
    RESTARTING = "restarting into the update"
    WAITING = "waiting for the next window"


@dataclass(frozen=True)
class ApplyResult:
    outcome: ApplyOutcome
    message: str

    @property
    def failed(self) -> bool:
        return self.outcome is ApplyOutcome.INSTALL_FAILED


class Apply:
    def __init__(self, config: Config, *, runner: Runner | None = None,
                 paths: UpdatePaths = UpdatePaths(),
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 sleep: Callable[[float], None] = time.sleep,
                 activity_path: Path = activity.ACTIVITY_PATH) -> None:
        self.config = config
        self.runner = runner or partial(commands.run, timeout_s=INSTALL_TIMEOUT_S)
        self.paths = paths
        self.now = now
        self.sleep = sleep
        self.activity_path = activity_path
        try:
            owner = os.stat(config.data_dir)
            self.owner = (owner.st_uid, owner.st_gid)
        except OSError:
            self.owner = (0, 0)
        with self._files():
            self.last = delivery.read(config.data_dir, KIND)

    def _files(self):
        return as_user(*self.owner)

    def run(self) -> ApplyResult:
        if not self.paths.from_image:
            return ApplyResult(ApplyOutcome.NOT_FROM_IMAGE,
                               Said(NOTHING_TO_APPLY, why=state.NOT_FROM_IMAGE))
        last = self.last
        if last is None or not last.version:
            return ApplyResult(ApplyOutcome.NOTHING, Said(NONE_DOWNLOADED))
        version = last.version
        if last.state is DeliveryState.DOWNLOADED:
            installed = self._install(last)
            if installed is not None:
                return installed
        try:
            view = state.gather(self.runner, self.paths)
        except RaucError as e:
            return ApplyResult(ApplyOutcome.NOTHING, f"cannot tell the slots: {e}")
        if not pending(view, version):
            return ApplyResult(ApplyOutcome.NOTHING, Said(NONE_WAITING, version=view.version))
        return self._restart_when_idle(last, version, view)

    def _install(self, last: DeliveryStatus) -> ApplyResult | None:
        """None when installed (the restart comes next); else what went wrong."""
        folder = download_folder(self.config.data_dir)
        with self._files():
            bundle = download.complete_file(folder)
            fd = _open_file(bundle) if bundle is not None else None
        if bundle is None or fd is None:
            why = (f"the downloaded {last.version} is no longer in {folder}: it is downloaded "
                   "again in the next update window")
            self._write(replace(last, state=DeliveryState.IDLE, why=why))
            return ApplyResult(ApplyOutcome.NOTHING, why)
        try:
            if os.geteuid() == 0:  # the kiosk user wrote it: from now on only root may change it
                os.fchown(fd, 0, 0)
                os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        log.info("installing system update %s into the other slot (a few minutes)",
                 last.version)
        result = self.runner(list(rauc.install_argv(str(bundle))))
        try:
            with self._files():
                download.discard(folder)  # installed or refused: it is not installed twice
        except OSError as e:
            log.error("%s: cannot delete the installed bundle (%s)", folder, e.strerror)
        if not result.ok:
            why = (f"rauc refused to install {last.version}: {rauc.install_failure(result)}. "
                   "It is not downloaded again; publish a fixed release (with a newer version) "
                   "on the central server. This slot stays as it is")
            log.error("%s", why)
            self._write(replace(last, state=DeliveryState.FAILED, why=why,
                                refused_sha256=last.sha256))
            return ApplyResult(ApplyOutcome.INSTALL_FAILED, why)
        why = (f"{last.version} is installed into the other slot: the kiosk restarts into it "
               "on trial when nobody is using it, inside the update window")
        log.info("%s", why)
        self._write(replace(last, state=DeliveryState.INSTALLED, why=why))
        return None

    def _restart_when_idle(self, last: DeliveryStatus, version: str,
                           view: SystemView) -> ApplyResult:
        window = parse_window(self.config.updates.window)
        moment = self.now()
        end = window.end_after(moment) if window.contains(moment) else moment
        said = None
        while window.contains(moment):
            idle, why = self._idle(moment)
            if idle:
                message = (f"restarting into {version} ({why}): it starts on trial and is kept "
                           f"once the kiosk is in service; otherwise it falls back to "
                           f"{view.version} by itself")
                log.warning("%s", message)
                last = self._write(replace(last, state=DeliveryState.INSTALLED, why=message))
                rebooted = self.runner(list(REBOOT_ARGV))
                if rebooted.ok:
                    return ApplyResult(ApplyOutcome.RESTARTING, message)
                # Not restarting after all: say so, and try again in the next window.
                failed = (f"{version} is installed, but the restart failed ({rebooted.why}): "
                          "it is tried again in the next update window")
                log.error("%s", failed)
                self._write(replace(last, state=DeliveryState.WAITING, why=failed))
                return ApplyResult(ApplyOutcome.WAITING, failed)
            if why != said:
                log.info("%s is installed; the restart waits: %s", version, why)
                said = why
            self.sleep(LOOK_EVERY_S)
            moment = self.now()
        message = (f"{version} is installed, but the kiosk was in use until the update window "
                   f"{window} ended ({end:%H:%M}): it restarts into it in the next window")
        log.info("%s", message)
        self._write(replace(last, state=DeliveryState.WAITING, why=message))
        return ApplyResult(ApplyOutcome.WAITING, message)

    def _idle(self, moment: datetime) -> tuple[bool, str]:
        with self._files():
            seen, busy = activity.read_in_use(self.activity_path)
        if busy is not None:
            return False, busy
        if seen is None:
            return True, "the kiosk app is not running"
        idle = seen.idle_for(moment.astimezone(timezone.utc))
        if idle < activity.IDLE_BEFORE_RESTART_S:
            return False, f"the kiosk was used {idle:.0f} s ago"
        return True, f"nobody has used the kiosk for {idle:.0f} s"

    def _write(self, status: DeliveryStatus) -> DeliveryStatus:
        """Writes `status` (stamped) and returns it, as the last status."""
        with self._files():
            self.last = delivery.write(self.config.data_dir, KIND, status)
        return self.last


@contextmanager
def as_user(uid: int, gid: int) -> Iterator[None]:
    """Root's file work in a folder another user controls, with that user's rights, so a
    link planted there cannot make root read, write or delete elsewhere. Nothing to do when
    not root, or for root's own folder."""
    if os.geteuid() != 0 or uid == 0:
        yield
        return
    groups = os.getgroups()
    os.setgroups([gid])
    os.setegid(gid)
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


def _open_file(path: Path) -> int | None:
    """A descriptor of the regular file at `path`, never through a symbolic link."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        log.error("%s: refused (%s)", path, e.strerror)
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        log.error("%s: refused (not a regular file)", path)
        return None
    return fd


def pending(view: SystemView, version: str) -> bool:
    """`version` is in the other slot, newer than this one, and did not fall back."""
    other = view.other
    if other is None or not other.bundle_version or view.state is UpdateState.FELL_BACK:
        return False
    try:
        return (parse_version(other.bundle_version) == parse_version(version)
                and is_older(view.version or "", version))
    except ValueError:
        return False
