"""One run of the uploader: batches of counts, the catalogue's titles when it changed, a heartbeat.

A batch is marked sent in the journal only after the server answered 200 for it. Its id and range
are saved before it is sent and reused until then, so a retry or a crash resends the same batch,
which the server counts once. At most `max_batches_per_run` batches go out, `pause_s` apart: after
weeks offline the timer's next runs send the rest. One run at a time (a lock file beside the
journal). Runs in the uploader process, on its only thread.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import tzinfo

from content.errors import ContentError
from kiosk.config import Config
from kiosk.errors import CentralRequestError, JournalError
from kiosk.journal import Journal
from kiosk.journal.store import utc_now
from kiosk.upload import outcome
from kiosk.upload import state as state_file
from kiosk.upload.catalogue_titles import catalogue_body, current_version
from kiosk.upload.counts import Batch, build_batch
from kiosk.upload.heartbeat import heartbeat_body
from kiosk.upload.sender import Central, RetryPolicy, read_token
from kiosk.upload.state import PendingBatch, UploadState

log = logging.getLogger(__name__)
COUNTS, HEARTBEAT, CATALOGUE = "/api/v1/counts", "/api/v1/heartbeat", "/api/v1/catalogue"


@dataclass(frozen=True)
class SentBatch:
    batch_id: str
    first_seq: int
    last_seq: int
    rows: int
    counts: int
    duplicate: bool | None  # the server's answer; None in a dry run


@dataclass(frozen=True)
class Request:
    """A request a dry run would make."""
    method: str
    url: str
    body: dict


@dataclass(frozen=True)
class RunReport:
    batches: tuple[SentBatch, ...] = ()
    unsent_rows: int = 0
    heartbeat_sent: bool = False
    catalogue_sent: str | None = None  # the version whose titles went out in this run
    error: str | None = None
    busy: bool = False  # another upload was running: this one did nothing
    requests: tuple[Request, ...] = ()  # a dry run's, in order
    pruned_rows: int = 0  # rows uploaded long ago that the run removed from the journal
    cause: str | None = None  # why `error`, for staff (kiosk.upload.outcome's causes)
    status: int | None = None  # the central server's HTTP status with `error`, if it answered


def upload(config: Config, *, heartbeat_only: bool = False,
           sleep: Callable[[float], None] = time.sleep,
           clock: Callable[[], float] = time.monotonic, rng: random.Random | None = None,
           zone: tzinfo | None = None) -> RunReport:
    """Send what is unsent (unless `heartbeat_only`), then the heartbeat. Failures are recorded
    in the state file and the report, never raised: the timer's next run tries again."""
    folder = config.journal_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    with state_file.exclusive(folder) as mine:
        if not mine:
            log.info("another upload is running; this one leaves it alone")
            return RunReport(busy=True)
        return _Run(config, sleep, clock, rng, zone).run(heartbeat_only)


def dry_run(config: Config, *, heartbeat_only: bool = False,
            zone: tzinfo | None = None) -> RunReport:
    """What `upload` would send now, changing nothing: no request, no file written. Batches not
    yet pending get fresh ids here; the real run makes its own."""
    path = state_file.state_path(config.journal_path)
    state = state_file.load(path)
    base = config.central.url.rstrip("/")
    requests: list[Request] = []
    batches: list[SentBatch] = []
    unsent = 0
    if config.journal_path.exists():
        with Journal.open_existing(config.journal_path) as journal:
            unsent = journal.unsent_count()
            done, pending = journal.sent_upto(), state.pending
            for _ in range(0 if heartbeat_only else config.central.max_batches_per_run):
                batch = next_batch(journal, done, pending, config.central.batch_rows, zone)
                if batch is None:
                    break
                requests.append(Request("POST", base + COUNTS, batch.body(config.kiosk.id)))
                batches.append(_sent(batch, None))
                done, pending = batch.last_seq, None
    if not heartbeat_only:
        body = _catalogue_due(config, state)
        if body is not None:
            requests.append(Request("POST", base + CATALOGUE, body))
    requests.append(Request("POST", base + HEARTBEAT, heartbeat_body(config, state, unsent)))
    return RunReport(batches=tuple(batches), unsent_rows=unsent, requests=tuple(requests))


def next_batch(journal: Journal, done: int, pending: PendingBatch | None, batch_rows: int,
               zone: tzinfo | None = None) -> Batch | None:
    """The batch to send after row `done`: the pending one again if it follows on, else a new
    one of at most `batch_rows` rows; None when every row is sent."""
    if pending is not None and pending.last_seq <= done:
        pending = None  # accepted and marked; only the state file did not hear of it
    if pending is not None and pending.first_seq != done + 1:
        log.warning("pending batch %s (rows %d to %d) does not follow the rows sent (up to %d); "
                    "making a new one", pending.batch_id, pending.first_seq, pending.last_seq,
                    done)
        pending = None
    if pending is not None:
        size = pending.last_seq - pending.first_seq + 1
        batch = build_batch(journal.rows(after_seq=done), pending.batch_id, max_rows=size,
                            upto_seq=pending.last_seq, zone=zone)
        if batch is not None and batch.last_seq == pending.last_seq:
            return batch
        log.warning("pending batch %s (rows %d to %d) no longer matches the journal; making a "
                    "new one", pending.batch_id, pending.first_seq, pending.last_seq)
    return build_batch(journal.rows(after_seq=done), str(uuid.uuid4()), max_rows=batch_rows,
                       zone=zone)


class _Run:
    def __init__(self, config: Config, sleep: Callable[[float], None],
                 clock: Callable[[], float], rng: random.Random | None,
                 zone: tzinfo | None) -> None:
        self.config = config
        self.settings = config.central
        self.path = state_file.state_path(config.journal_path)
        self.state = state_file.load(self.path)
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.zone = zone

    def run(self, heartbeat_only: bool) -> RunReport:
        sent: list[SentBatch] = []
        catalogue = None
        error = None
        failed: tuple[str | None, int | None] = (None, None)  # cause, HTTP status
        try:
            central = self._central()
        except CentralRequestError as e:
            return self._failed(str(e))
        with central:
            if not heartbeat_only:
                try:
                    self._send_batches(central, sent)
                    catalogue = self._send_catalogue(central)
                except CentralRequestError as e:
                    error, failed = str(e), (outcome.cause_of(e), e.status)
                    log.error("upload stopped: %s", e)
                except JournalError as e:
                    error, failed = str(e), (outcome.JOURNAL, None)
                    log.error("upload stopped: %s", e)
                self._save(self.state.with_error(error, utc_now()) if error
                           else self.state.without_error())
            unsent = self._unsent()
            try:
                central.post(HEARTBEAT, heartbeat_body(self.config, self.state, unsent))
                self._save(replace(self.state, last_contact_utc=utc_now()))
                heartbeat = True
            except CentralRequestError as e:
                log.error("heartbeat not sent: %s", e)
                if error is None:  # the run's first failure is the one to show
                    error, failed = str(e), (outcome.cause_of(e), e.status)
                    self._save(self.state.with_error(error, utc_now()))
                heartbeat = False
        # After a clean run, in the background of the kiosk: what the server has had for long.
        pruned = self._prune() if not heartbeat_only and error is None else 0
        return RunReport(batches=tuple(sent), unsent_rows=unsent, heartbeat_sent=heartbeat,
                         catalogue_sent=catalogue, error=error, pruned_rows=pruned,
                         cause=failed[0], status=failed[1])

    def _central(self) -> Central:
        s = self.settings
        token = read_token(self.config.central_token_path)
        return Central(s.url, token, timeout=(s.connect_timeout_s, s.timeout_s),
                       policy=RetryPolicy(s.retries, s.backoff_s, s.retry_budget_s),
                       sleep=self.sleep, clock=self.clock, rng=self.rng)

    def _send_batches(self, central: Central, sent: list[SentBatch]) -> None:
        if not self.config.journal_path.exists():
            return  # the app has not started yet: nothing to count
        with Journal.open_existing(self.config.journal_path) as journal:
            for number in range(self.settings.max_batches_per_run):
                batch = next_batch(journal, journal.sent_upto(), self.state.pending,
                                   self.settings.batch_rows, self.zone)
                if batch is None:
                    return
                if number:
                    self.sleep(self.settings.pause_s)  # spares the server during a catch-up
                pending = PendingBatch(batch.batch_id, batch.first_seq, batch.last_seq)
                if self.state.pending != pending:
                    self._save(replace(self.state, pending=pending))  # on disk before it is sent
                reply = central.post(COUNTS, batch.body(self.config.kiosk.id))
                if reply.get("batch_id") != batch.batch_id:
                    raise CentralRequestError(f"{central.url}{COUNTS}: the answer names batch "
                                              f"{reply.get('batch_id')!r}, not {batch.batch_id}")
                journal.mark_sent(batch.last_seq)
                now = utc_now()
                self._save(replace(self.state, pending=None, last_upload_utc=now,
                                   last_contact_utc=now))
                duplicate = bool(reply.get("duplicate"))
                sent.append(_sent(batch, duplicate))
                log.info("rows %d to %d sent as %d counts (batch %s%s)", batch.first_seq,
                         batch.last_seq, len(batch.counts), batch.batch_id,
                         ", already there" if duplicate else "")
            left = journal.unsent_count()
            if left:
                log.info("%d batches sent; %d rows are left for the next run", len(sent), left)

    def _send_catalogue(self, central: Central) -> str | None:
        body = _catalogue_due(self.config, self.state)
        if body is None:
            return None
        central.post(CATALOGUE, body)
        self._save(replace(self.state, catalogue_sent=body["version"]))
        log.info("catalogue %s sent (%d titles)", body["version"], len(body["titles"]))
        return body["version"]

    def _prune(self) -> int:
        keep_days = self.config.journal.keep_days
        if not keep_days or not self.config.journal_path.exists():
            return 0
        try:
            with Journal.open_existing(self.config.journal_path) as journal:
                result = journal.prune(keep_days)
        except JournalError as e:
            log.error("old rows not pruned: %s", e)
            return 0
        if result.rows:
            log.info("%d rows pruned: rows 1 to %d are uploaded and older than %d days; "
                     "%d KB given back (%s)", result.rows, result.upto, keep_days,
                     result.freed_bytes // 1024, result.reclaim)
        return result.rows

    def _unsent(self) -> int:
        if not self.config.journal_path.exists():
            return 0
        with Journal.open_existing(self.config.journal_path) as journal:
            return journal.unsent_count()

    def _failed(self, error: str) -> RunReport:
        """Nothing sent: the kiosk's token cannot be read."""
        log.error("upload not possible: %s", error)
        self._save(self.state.with_error(error, utc_now()))
        return RunReport(unsent_rows=self._unsent(), error=error, cause=outcome.NO_TOKEN)

    def _save(self, state: UploadState) -> None:
        state_file.save(self.path, state)
        self.state = state


def _catalogue_due(config: Config, state: UploadState) -> dict | None:
    """The catalogue's titles when the server does not have this version yet."""
    try:
        current = current_version(config.catalogue_dir)
        if current is None or current.name == state.catalogue_sent:
            return None
        return catalogue_body(config.kiosk.id, current)
    except ContentError as e:
        log.warning("catalogue titles not sent: %s", e)
        return None


def _sent(batch: Batch, duplicate: bool | None) -> SentBatch:
    return SentBatch(batch.batch_id, batch.first_seq, batch.last_seq, batch.rows,
                     len(batch.counts), duplicate)
