"""`kiosk content pull`, the first step of kiosk-pull.service (as the kiosk user): inside the
maintenance window ([updates] window), ask the central server which e-book batches are
published for this kiosk's library and bring the catalogue up to the newest.

Batches add, update and withdraw titles, so each builds on the one before: a kiosk that missed a
month, or a new one, applies every published batch newer than its catalogue's, oldest first,
one at a time. Each is downloaded (kiosk.delivery: resumed across cut connections and restarts,
the bandwidth limit, the space check), then checked and applied by the catalogue store
(content.store: the signature against the kiosk's own public key, every file, the switch) while
nobody is using the kiosk, and its file deleted. A batch the store refused (not a batch, not
signed with the library's key, damaged, or not fitting the catalogue) is remembered by its
sha256 and not fetched again until another file is published; the batches after it wait.

Every outcome goes to the delivery status of the catalogue (kiosk.delivery.status: the
heartbeat, the admin screen's and the doctor's ebooks line) and to the log, in a technician's
words. A kiosk that cannot reach the server keeps its catalogue and says so. Runs on the calling
thread; sleeps only in the bandwidth limit, between retries and while a session goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from common.batch_names import batch_order, is_older_batch
from content.errors import BatchProblem, ContentError
from content.store import ApplyReport, CatalogueStore
from kiosk.config import Config
from kiosk.delivery import download, releases
from kiosk.delivery import status as delivery
from kiosk.delivery.download import DownloadError, DownloadFailure, Target
from kiosk.delivery.from_config import central_for, downloader_for
from kiosk.delivery.releases import Release, ReleaseKind
from kiosk.delivery.space import MB
from kiosk.delivery.status import DeliveryState, DeliveryStatus
from kiosk.errors import CentralRequestError
from kiosk.update import activity
from kiosk.update.window import Window, parse_window
from kiosk.upload.sender import Central

log = logging.getLogger(__name__)
KIND = ReleaseKind.CATALOGUE
BATCHES = "/api/v1/batches"  # every live batch of the library, oldest first
SESSION_WAIT_S = 600.0  # how long a downloaded batch waits for a session to end, per run
LOOK_EVERY_S = 15.0     # how often it looks again
# Refusals that belong to the batch's file: fetching the same file again changes nothing.
REFUSED_FILE = frozenset({BatchProblem.NOT_A_BATCH, BatchProblem.SIGNATURE,
                          BatchProblem.DAMAGED, BatchProblem.DOES_NOT_FIT})
# The catalogue moved on meanwhile (a USB stick, a hand apply): the file is not needed.
OVERTAKEN = frozenset({BatchProblem.ALREADY_APPLIED, BatchProblem.OLDER})


class CataloguePullOutcome(StrEnum):
    NO_SERVER = "no central server"
    OUTSIDE_WINDOW = "outside the update window"
    NONE_PUBLISHED = "none published"
    UP_TO_DATE = "up to date"
    APPLIED = "applied"
    REFUSED_BEFORE = "refused before"
    IN_USE = "downloaded, the kiosk in use"
    PAUSED = "paused at the window's end"
    FAILED = "failed"


@dataclass(frozen=True)
class CataloguePullResult:
    outcome: CataloguePullOutcome
    message: str
    applied: tuple[ApplyReport, ...] = ()

    @property
    def failed(self) -> bool:
        return self.outcome is CataloguePullOutcome.FAILED


def download_folder(data_dir: Path) -> Path:
    return delivery.folder(data_dir, KIND) / "download"


def to_apply(published: list[Release], current: str | None) -> list[Release]:
    """The published batches newer than the catalogue's, oldest first."""
    newer = [r for r in published if current is None or is_older_batch(current, r.version)]
    return sorted(newer, key=lambda r: batch_order(r.version))


class CataloguePull:
    def __init__(self, config: Config, *,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 activity_path: Path = activity.ACTIVITY_PATH) -> None:
        self.config = config
        self.now = now
        self.sleep = sleep
        self.clock = clock
        self.activity_path = activity_path
        self.store = CatalogueStore(config.catalogue_dir, reserve_mb=config.updates.reserve_mb)
        self.last = delivery.read(config.data_dir, KIND)
        self._status: DeliveryStatus | None = None  # the download's, while it runs

    def run(self) -> CataloguePullResult:
        if not self.config.central.url:
            return CataloguePullResult(CataloguePullOutcome.NO_SERVER,
                                       "no [central] url is set: there is no server to pull "
                                       "e-book batches from")
        window = parse_window(self.config.updates.window)
        moment = self.now()
        if not window.contains(moment):
            return CataloguePullResult(CataloguePullOutcome.OUTSIDE_WINDOW,
                                       f"outside the update window {window} (it is "
                                       f"{moment:%H:%M} here): nothing to do now")
        try:
            with central_for(self.config, sleep=self.sleep, clock=self.clock) as central:
                published = self._published(central)
                return self._bring_up_to_date(central, published, window)
        except CentralRequestError as e:
            return self._failed(f"the central server could not be asked for e-book batches: "
                                f"{e}; the kiosk keeps its catalogue ({self._current_words()})")

    def _published(self, central: Central) -> list[Release]:
        """The library's live batches; from `…/latest` alone on a server without the list."""
        answer = central.get(BATCHES, empty=frozenset({404}))
        if answer is None:
            latest = releases.from_answer(
                central.get(releases.LATEST[KIND], empty=releases.NOTHING_PUBLISHED), KIND)
            return [latest] if latest else []
        items = answer.get("batches")
        if not isinstance(items, list):
            raise CentralRequestError(f"{BATCHES}: the answer has no list of batches: "
                                      f"{str(answer)[:300]}")
        return [r for r in (releases.from_answer(item if isinstance(item, dict) else None, KIND)
                            for item in items) if r is not None]

    def _bring_up_to_date(self, central: Central, published: list[Release],
                          window: Window) -> CataloguePullResult:
        current = self.store.current_batch()
        pending = to_apply(published, current)
        if not pending:
            return self._idle(published, current)
        applied: list[ApplyReport] = []
        for release in pending:
            if self.last is not None and self.last.refused_sha256 == release.sha256:
                why = self.last.why or f"batch {release.version} was refused before"
                log.error("%s", why)
                self._write(replace(self.last, state=DeliveryState.FAILED))
                return CataloguePullResult(CataloguePullOutcome.REFUSED_BEFORE, why,
                                           tuple(applied))
            result = self._one(central, release, window)
            if isinstance(result, CataloguePullResult):
                return replace(result, applied=tuple(applied))
            if result is not None:
                applied.append(result)
        if not applied:  # every one was overtaken by a catalogue applied meanwhile
            return self._idle(published, self.store.current_batch())
        why = self._applied_words(applied)
        return CataloguePullResult(CataloguePullOutcome.APPLIED, why, tuple(applied))

    def _idle(self, published: list[Release], current: str | None) -> CataloguePullResult:
        self._discard()
        if not published:
            outcome = CataloguePullOutcome.NONE_PUBLISHED
            why = (f"no e-book batch is published for this kiosk's library; the catalogue "
                   f"stays as it is ({self._current_words()})")
        else:
            newest = max(published, key=lambda r: batch_order(r.version))
            outcome = CataloguePullOutcome.UP_TO_DATE
            if current is not None and is_older_batch(newest.version, current):
                why = (f"the newest published batch {newest.version} is older than this "
                       f"kiosk's catalogue {current}: it is not applied (a newer catalogue was "
                       "applied here by hand or from a USB stick; publish a newer batch, or "
                       "roll back by hand)")
            else:
                why = f"the catalogue has the newest published batch {newest.version}"
        self._write(DeliveryStatus(DeliveryState.IDLE, current, why=why,
                                   refused_sha256=self._refused()))
        log.info("%s", why)
        return CataloguePullResult(outcome, why)

    # --- one batch ------------------------------------------------------------------------

    def _one(self, central: Central, release: Release,
             window: Window) -> ApplyReport | CataloguePullResult | None:
        """The report of the batch applied; a result when the pull stops here; None when the
        catalogue had moved past it meanwhile."""
        fetched = self._download(central, release, window)
        if isinstance(fetched, CataloguePullResult):
            return fetched
        busy = self._wait_for_no_session(window)
        if busy is not None:
            why = (f"batch {release.version} is downloaded and verified, but {busy}: it is "
                   "applied when nobody is using the kiosk, in the next run inside the update "
                   "window")
            log.info("%s", why)
            self._write(replace(self._base(release), state=DeliveryState.DOWNLOADED,
                                done_bytes=release.size, total_bytes=release.size, why=why))
            return CataloguePullResult(CataloguePullOutcome.IN_USE, why)
        try:
            report = self.store.apply(fetched, self.config.batch_public_key_path)
        except ContentError as e:
            return self._refused_by_store(release, e)
        except OSError as e:  # the data partition: the half-built version is gone already
            return self._failed(f"batch {release.version} could not be applied: {e}; is the "
                                "data partition read-only or damaged? (kiosk doctor)")
        self._discard()
        why = (f"batch {release.version} applied as {report.version}: {len(report.added)} "
               f"added, {len(report.updated)} updated, {len(report.withdrawn)} withdrawn")
        log.info("%s", why)
        self._write(DeliveryStatus(DeliveryState.IDLE, release.version, release.size,
                                   release.size, why=why, sha256=release.sha256,
                                   refused_sha256=self._refused()))
        return report

    def _download(self, central: Central, release: Release,
                  window: Window) -> Path | CataloguePullResult:
        downloader = downloader_for(self.config, download_folder(self.config.data_dir),
                                    central, keep_going=lambda: window.contains(self.now()),
                                    on_progress=self._progressed, sleep=self.sleep,
                                    clock=self.clock)
        self._status = replace(self._base(release), state=DeliveryState.DOWNLOADING,
                               done_bytes=0, total_bytes=release.size, why=None)
        if downloader.complete_file() is None:
            log.info("downloading e-book batch %s (%.1f MB) from %s", release.version,
                     release.size / MB, self.config.central.url)
        try:
            return downloader.fetch(Target(release.url, release.size, release.sha256,
                                           release.file_name))
        except DownloadError as e:
            if e.failure is DownloadFailure.PAUSED:
                log.info("e-book batch %s: %s", release.version, e)
                self._write(replace(self._status, why=str(e)))
                return CataloguePullResult(CataloguePullOutcome.PAUSED,
                                           f"e-book batch {release.version}: {e}")
            return self._failed(f"e-book batch {release.version}: {e}")
        finally:
            self._status = None

    def _refused_by_store(self, release: Release, error: ContentError
                          ) -> CataloguePullResult | None:
        problem = error.problem
        if problem in OVERTAKEN:
            log.info("batch %s is not needed any more: %s", release.version, error)
            self._discard()
            return None
        if problem in REFUSED_FILE:
            self._discard()
            why = (f"batch {release.version} was refused: {error}. It is not downloaded "
                   "again; publish a corrected batch on the central server (the kiosk keeps "
                   f"its catalogue, {self._current_words()})")
            log.error("%s", why)
            self._write(replace(self._base(release), state=DeliveryState.FAILED, why=why,
                                refused_sha256=release.sha256))
            return CataloguePullResult(CataloguePullOutcome.FAILED, why)
        if problem is BatchProblem.NO_SPACE:
            self._discard()  # the space goes back to the journal; fetched again next time
            return self._failed(f"batch {release.version}: {error}; the download was deleted")
        # The kiosk's own key, another apply running: the file stays for the next run.
        return self._failed(f"batch {release.version} is downloaded but was not applied: "
                            f"{error}")

    def _wait_for_no_session(self, window: Window) -> str | None:
        """None once nobody is using the kiosk; else why it still is, after a short wait
        inside the window."""
        waited = 0.0
        while True:
            _seen, busy = activity.read_in_use(self.activity_path)
            if busy is None:
                return None
            if waited >= SESSION_WAIT_S or not window.contains(self.now()):
                return busy
            if waited == 0.0:
                log.info("the batch waits: %s", busy)
            self.sleep(LOOK_EVERY_S)
            waited += LOOK_EVERY_S

    # --- the status -----------------------------------------------------------------------

    def _base(self, release: Release) -> DeliveryStatus:
        return DeliveryStatus(DeliveryState.IDLE, release.version, sha256=release.sha256,
                              refused_sha256=self._refused())

    def _progressed(self, done: int, total: int) -> None:
        if self._status is None:  # the downloader reports only inside _download
            raise RuntimeError("download progress reported with no download running")
        self._status = replace(self._status, done_bytes=done, total_bytes=total)
        self._write(self._status)

    def _failed(self, why: str) -> CataloguePullResult:
        log.error("%s", why)
        base = self._status or self.last or DeliveryStatus(DeliveryState.FAILED)
        self._write(replace(base, state=DeliveryState.FAILED, why=why))
        return CataloguePullResult(CataloguePullOutcome.FAILED, why)

    def _refused(self) -> str | None:
        return self.last.refused_sha256 if self.last else None

    def _current_words(self) -> str:
        current = self.store.current_batch()
        return f"batch {current}" if current else "none yet"

    @staticmethod
    def _applied_words(applied: list[ApplyReport]) -> str:
        return "; ".join(f"batch {r.batch} applied as {r.version}: {len(r.added)} added, "
                         f"{len(r.updated)} updated, {len(r.withdrawn)} withdrawn"
                         for r in applied)

    def _discard(self) -> None:
        download.discard(download_folder(self.config.data_dir))

    def _write(self, status: DeliveryStatus) -> None:
        self.last = delivery.write(self.config.data_dir, KIND, status)
