"""`kiosk update pull`, run as the kiosk user by kiosk-pull.service: inside the update window,
ask the central server for the latest system update published for this kiosk's library
(`GET /api/v1/updates/latest`), and download it (resumed, verified) when it is newer than the
booted system and not already in the other slot. Installing and restarting is the root step's
(kiosk.update.apply).

Every outcome is written to the delivery status (kiosk.delivery.status: the heartbeat, the
doctor and `kiosk update status` show it) and logged in a technician's words. Runs on the
calling thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from common.marks import N_
from common.versions import is_older, parse_version
from kiosk import commands
from kiosk.commands import Runner
from kiosk.config import Config
from kiosk.delivery import download, releases
from kiosk.delivery import status as delivery
from kiosk.delivery.download import Downloader, DownloadError, DownloadFailure, Target
from kiosk.delivery.from_config import central_for, downloader_for
from kiosk.delivery.releases import Release, ReleaseKind
from kiosk.delivery.space import MB
from kiosk.delivery.status import DeliveryState, DeliveryStatus
from kiosk.errors import CentralRequestError, Said
from kiosk.update import state
from kiosk.update.rauc import RaucError
from kiosk.update.state import SystemView, UpdatePaths, UpdateState
from kiosk.update.window import parse_window
from kiosk.upload.sender import Central

log = logging.getLogger(__name__)

# Results a technician reads (`kiosk update pull`), in their language on the command line.
NOTHING_TO_PULL = N_("{why}; nothing to pull")
NO_SERVER = N_("no [central] url is set: there is no server to pull updates from")
OUTSIDE_WINDOW = N_("outside the update window {window} (it is {time} here): nothing to do now")

KIND = ReleaseKind.SYSTEM


class PullOutcome(StrEnum):
    NOT_FROM_IMAGE = "not from the image"
    NO_SERVER = "no central server"
    OUTSIDE_WINDOW = "outside the update window"
    NONE_PUBLISHED = "none published"
    UP_TO_DATE = "up to date"
    INSTALLED_ALREADY = "installed, restart pending"
    REFUSED_BEFORE = "refused before"
    DOWNLOADED = "downloaded"
    PAUSED = "paused at the window's end"
    FAILED = "failed"


@dataclass(frozen=True)
class PullResult:
    outcome: PullOutcome
    message: str

    @property
    def failed(self) -> bool:
        return self.outcome is PullOutcome.FAILED


@dataclass(frozen=True)
class Verdict:
    """What to do instead of downloading the published release."""
    outcome: PullOutcome
    state: DeliveryState
    why: str


NO_RELEASE = Verdict(PullOutcome.NONE_PUBLISHED, DeliveryState.IDLE,
                     "no system update is published for this kiosk's library")


def download_folder(data_dir: Path) -> Path:
    return delivery.folder(data_dir, KIND) / "download"


def judge(release: Release | None, view: SystemView,
          last: DeliveryStatus | None) -> Verdict | None:
    """Why the published release is not to be downloaded; None: download it."""
    if release is None:
        return NO_RELEASE
    version = release.version
    try:
        parse_version(version)
    except ValueError as e:
        return Verdict(PullOutcome.FAILED, DeliveryState.FAILED,
                       f"the central server offers a system update as version {version!r}: "
                       f"{e}. Publish it again with a proper version")
    try:
        booted = view.version or ""
        parse_version(booted)
    except ValueError:
        return Verdict(PullOutcome.FAILED, DeliveryState.FAILED,
                       f"this system's own version is unknown or unreadable ({view.version!r} in "
                       f"/etc/kiosk-release), so whether {version} is newer cannot be told; "
                       f"install it by hand (kiosk update install)")
    if not is_older(booted, version):
        relation = "the same as" if not is_older(version, booted) else "older than"
        return Verdict(PullOutcome.UP_TO_DATE, DeliveryState.IDLE,
                       f"the published {version} is {relation} this system ({booted}): "
                       "nothing to do")
    other = view.other
    if other is not None and other.bundle_version and _same(other.bundle_version, version):
        if view.state is UpdateState.FELL_BACK:
            return Verdict(PullOutcome.FAILED, DeliveryState.FAILED,
                           f"{version} was installed into slot {other.bootname} but did not get "
                           f"ready on its trial boot, and the kiosk went back to {booted}; it is "
                           "not installed again. Publish a fixed release with a newer version")
        waiting = last is not None and last.state is DeliveryState.WAITING
        return Verdict(PullOutcome.INSTALLED_ALREADY,
                       DeliveryState.WAITING if waiting else DeliveryState.INSTALLED,
                       f"{version} is installed in slot {other.bootname}: the kiosk restarts "
                       "into it when nobody is using it, inside the update window")
    if last is not None and last.refused_sha256 == release.sha256:
        return Verdict(PullOutcome.REFUSED_BEFORE, DeliveryState.FAILED,
                       last.why or f"{version} was refused by the installer before")
    return None


def _same(a: str, b: str) -> bool:
    try:
        return parse_version(a) == parse_version(b)
    except ValueError:
        return a == b


class Pull:
    def __init__(self, config: Config, *, runner: Runner = commands.run,
                 paths: UpdatePaths = UpdatePaths(),
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.runner = runner
        self.paths = paths
        self.now = now
        self.sleep = sleep
        self.clock = clock
        self.last = delivery.read(config.data_dir, KIND)
        self._status: DeliveryStatus | None = None  # the download's, while it runs

    def run(self) -> PullResult:
        if not self.paths.from_image:
            return PullResult(PullOutcome.NOT_FROM_IMAGE,
                              Said(NOTHING_TO_PULL, why=state.NOT_FROM_IMAGE))
        if not self.config.central.url:
            return PullResult(PullOutcome.NO_SERVER, Said(NO_SERVER))
        window = parse_window(self.config.updates.window)
        moment = self.now()
        if not window.contains(moment):
            return PullResult(PullOutcome.OUTSIDE_WINDOW,
                              Said(OUTSIDE_WINDOW, window=window, time=f"{moment:%H:%M}"))
        try:
            view = state.gather(self.runner, self.paths)
        except RaucError as e:
            return self._failed(f"{e}: is rauc-service running? (systemctl status rauc)")
        try:
            with self._central() as central:
                path = releases.LATEST[KIND]
                release = releases.from_answer(
                    central.get(path, empty=releases.NOTHING_PUBLISHED), KIND)
                if release is None:
                    return self._settle(NO_RELEASE, None)
                verdict = judge(release, view, self.last)
                if verdict is not None:
                    return self._settle(verdict, release)
                return self._download(central, release, lambda: window.contains(self.now()))
        except CentralRequestError as e:
            return self._failed(f"the central server could not be asked for updates: {e}")

    def _central(self) -> Central:
        return central_for(self.config, sleep=self.sleep, clock=self.clock)

    def _downloader(self, central: Central, keep_going: Callable[[], bool]) -> Downloader:
        return downloader_for(self.config, download_folder(self.config.data_dir), central,
                              keep_going=keep_going, on_progress=self._progressed,
                              sleep=self.sleep, clock=self.clock)

    def _settle(self, verdict: Verdict, release: Release | None) -> PullResult:
        self._discard()  # nothing here is to be installed: give the space back
        refused = self.last.refused_sha256 if self.last else None
        self._write(DeliveryStatus(verdict.state, release.version if release else None,
                                   why=verdict.why, sha256=release.sha256 if release else None,
                                   refused_sha256=refused))
        log_at = log.error if verdict.state is DeliveryState.FAILED else log.info
        log_at("%s", verdict.why)
        return PullResult(verdict.outcome, verdict.why)

    def _download(self, central: Central, release: Release,
                  keep_going: Callable[[], bool]) -> PullResult:
        target = Target(release.url, release.size, release.sha256, release.file_name)
        downloader = self._downloader(central, keep_going)
        started = DeliveryStatus(DeliveryState.DOWNLOADING, release.version, 0,
                                 release.size, sha256=release.sha256,
                                 refused_sha256=self.last.refused_sha256 if self.last else None)
        self._status = started
        log.info("downloading system update %s (%s MB) from %s", release.version,
                 f"{release.size / MB:.1f}", self.config.central.url)
        try:
            downloader.fetch(target)
        except DownloadError as e:
            if e.failure is DownloadFailure.PAUSED:
                log.info("%s", e)
                self._write(replace(self._status or started, why=str(e)))
                return PullResult(PullOutcome.PAUSED, str(e))
            return self._failed(f"system update {release.version}: {e}")
        why = f"{release.version} is downloaded and verified; it is installed next"
        log.info("%s", why)
        self._write(replace(self._status or started, state=DeliveryState.DOWNLOADED,
                            done_bytes=release.size, why=why))
        return PullResult(PullOutcome.DOWNLOADED, why)

    def _progressed(self, done: int, total: int) -> None:
        if self._status is None:  # the downloader reports only inside _download
            raise RuntimeError("download progress reported with no download running")
        self._status = replace(self._status, done_bytes=done, total_bytes=total)
        self._write(self._status)

    def _failed(self, why: str) -> PullResult:
        log.error("%s", why)
        base = self._status or self.last or DeliveryStatus(DeliveryState.FAILED)
        self._write(replace(base, state=DeliveryState.FAILED, why=why))
        return PullResult(PullOutcome.FAILED, why)

    def _discard(self) -> None:
        download.discard(download_folder(self.config.data_dir))

    def _write(self, status: DeliveryStatus) -> None:
        self.last = delivery.write(self.config.data_dir, KIND, status)
