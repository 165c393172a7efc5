"""The wire contract with the kiosks' uploader, as pydantic models (and so in /openapi.json).

Bounds are part of the contract: a field out of them is a 422. The row limit is not a schema
bound, because a batch over it must be answered 413 (send smaller batches), not 422. A counts
batch must also be believable (contract 2, docs/upload.md): its counts add up to its journal
rows, its numbers are numbers, and its dates are near the server's clock (`check_dates`, which
the route calls with the app's clock).
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Literal

from fastapi import Path
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from common.upload_contract import MAX_COUNTS as MAX_COUNTS  # the API's 413 reads it here
from common.upload_contract import MAX_ROW_WEIGHT, counted_refusals

MAX_TITLES = 100_000
# Seq numbers stay exact as JSON numbers everywhere (2^53); a journal never gets near it.
MAX_SEQ = 2**53 - 1
MAX_N = 2**31 - 1
# How far a count's date may be from the server's UTC date: a kiosk east of the server is a day
# ahead by the evening; a kiosk that ran unsynced may send rows dated long before.
DATE_AHEAD = dt.timedelta(days=1)
DATE_BEHIND = dt.timedelta(days=3 * 365 + 1)

KioskId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ShortText = Annotated[str, Field(max_length=200)]
# A release's id as a path parameter: what both databases store exactly.
ReleaseId = Annotated[int, Path(ge=1, le=MAX_SEQ, description="the release's id")]


def _real_day(value: str) -> str:
    dt.date.fromisoformat(value)  # 2026-02-30 is refused here
    return value


def _not_text(value: object) -> object:
    """A number must be a JSON number: "5" and true are refused, where pydantic would read
    them as 5 and 1. A whole 5.0 stays a number, as JSON Schema's integer says."""
    if isinstance(value, (str, bool)):
        raise PydanticCustomError("int_type", "Input should be a valid integer, not {what}",
                                  {"what": "a string" if isinstance(value, str) else
                                   "true or false"})
    return value


Number = BeforeValidator(_not_text)
IsoDay = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                              json_schema_extra={"format": "date"}), AfterValidator(_real_day)]


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: Annotated[IsoDay, Field(description="the kiosk's local date")]
    hour: Annotated[int, Field(ge=0, le=23), Number]
    event: Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]
    outcome: Annotated[str, Field(pattern=r"^[a-z_ ]{1,64}$")]
    key: Annotated[str | None, Field(pattern=r"^book:[A-Za-z0-9_-]{1,64}$")] = None
    n: Annotated[int, Field(ge=1, le=MAX_N,
                            description="events: one per journal row, except refused download "
                            f"links (1 to {MAX_ROW_WEIGHT} per row)"), Number]


class CountsBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kiosk_id: KioskId
    batch_id: uuid.UUID
    first_seq: Annotated[int, Field(ge=1, le=MAX_SEQ), Number]
    last_seq: Annotated[int, Field(ge=1, le=MAX_SEQ), Number]
    counts: Annotated[list[CountIn], Field(min_length=1)]

    @model_validator(mode="after")
    def _believable(self) -> CountsBatch:
        if self.last_seq < self.first_seq:
            raise ValueError("last_seq must not be below first_seq")
        wrong = rows_mismatch(self)
        if wrong:
            raise PydanticCustomError("counts_not_rows", wrong)
        return self


def rows_mismatch(batch: CountsBatch) -> str | None:
    """Why the counts cannot be the batch's journal rows, or None. Every row counts one, in one
    count, except a row of refused download links, which holds 1 to MAX_ROW_WEIGHT of them; so
    the other counts leave the refused links' counts their rows, at least one each. Kiosks of
    either contract count so; nothing new is sent for it."""
    rows = batch.last_seq - batch.first_seq + 1
    span = f"journal rows {batch.first_seq} to {batch.last_seq} ({_rows(rows)})"
    plain = sum(c.n for c in batch.counts if not counted_refusals(c.event, c.outcome))
    held = [c.n for c in batch.counts if counted_refusals(c.event, c.outcome)]
    if not held:
        return None if plain == rows else f"the counts add up to {plain} for {span}"
    left, links = rows - plain, sum(held)
    if left < len(held):
        room = "no row is" if left <= 0 else f"only {_rows(left)} {'is' if left == 1 else 'are'}"
        return (f"{room} left for the {len(held)} counts of refused download links, which "
                f"need one each: the other counts add up to {plain} for {span}")
    if links < left:
        return (f"{links} refused download links for the {_rows(left)} left to them, which "
                f"hold at least one each, in {span}")
    if links > left * MAX_ROW_WEIGHT:
        return (f"{links} refused download links for the {_rows(left)} left to them; a row "
                f"holds at most {MAX_ROW_WEIGHT}, in {span}")
    return None


def _rows(n: int) -> str:
    return "1 row" if n == 1 else f"{n} rows"


def check_dates(batch: CountsBatch, now: dt.datetime) -> None:
    """Refuses (422, as a schema error) a batch with a count dated more than DATE_AHEAD after
    or DATE_BEHIND before the server's UTC date: `now`, the app's clock."""
    today = now.astimezone(dt.timezone.utc).date()
    for number, c in enumerate(batch.counts):
        day = dt.date.fromisoformat(c.date)
        if day > today + DATE_AHEAD:
            why = f"more than a day after the server's date ({today} UTC)"
        elif day < today - DATE_BEHIND:
            why = (f"more than 3 years ({DATE_BEHIND.days} days) before the server's date "
                   f"({today} UTC)")
        else:
            continue
        raise RequestValidationError([{
            "type": "date_out_of_window", "loc": ("body", "counts", number, "date"),
            "msg": f"{c.date} is {why}; is the kiosk's clock right?", "input": c.date}])


class CountsAnswer(BaseModel):
    batch_id: uuid.UUID
    duplicate: bool


class DeviceState(BaseModel):
    state: ShortText
    detail: Annotated[str, Field(max_length=1000)] = ""


class DeliveryStage(enum.StrEnum):
    """Where a kiosk is with one kind of release (what `kiosk update pull` reports)."""
    IDLE = "idle"
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    INSTALLED = "installed"
    FAILED = "failed"
    WAITING = "waiting"


class DeliveryState(BaseModel):
    """How far a kiosk got with fetching and installing one kind of release."""
    version: ShortText | None = None
    state: DeliveryStage
    done_bytes: Annotated[int | None, Field(ge=0, le=MAX_SEQ)] = None
    total_bytes: Annotated[int | None, Field(ge=0, le=MAX_SEQ)] = None
    why: Annotated[str | None, Field(max_length=500)] = None
    at: dt.datetime


class Delivery(BaseModel):
    """Per release kind; a kind this server does not know yet is ignored, not refused."""
    system: DeliveryState | None = None
    catalogue: DeliveryState | None = None  # an e-book batch (issue 17)


class Heartbeat(BaseModel):
    kiosk_id: KioskId
    time_utc: dt.datetime
    version: ShortText
    boot_id: ShortText
    clock_synced: bool | None = None
    uptime_s: Annotated[float | None, Field(ge=0, le=1e10)] = None
    devices: Annotated[dict[Annotated[str, Field(max_length=64)], DeviceState],
                       Field(max_length=64)] = {}
    ils: Literal["ok", "fault", "not_set_up"]
    disk_free_mb: Annotated[float | None, Field(ge=0, le=1e12)] = None
    unsent_rows: Annotated[int, Field(ge=0, le=MAX_SEQ)]
    last_upload_utc: dt.datetime | None = None
    last_error: Annotated[str | None, Field(max_length=2000)] = None
    catalogue: ShortText | None = None
    # The SD-card image's root (issue 14); absent from older kiosks and `setup.sh install` ones.
    system_version: ShortText | None = None
    slot: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")] = None
    update: Literal["ok", "trial", "fell_back"] | None = None
    # Releases fetched from this server (issue 14 part two); absent from older kiosks.
    delivery: Delivery | None = None


class HeartbeatAnswer(BaseModel):
    ok: bool
    server_time_utc: str


class TitleIn(BaseModel):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    title: Annotated[str, Field(max_length=500)]
    author: Annotated[str, Field(max_length=500)] = ""
    category: Annotated[str, Field(max_length=100)] = ""
    # The licence window, first and last day (issue 17); absent from older kiosks.
    valid_from: IsoDay | None = None
    valid_until: IsoDay | None = None


class Catalogue(BaseModel):
    kiosk_id: KioskId
    version: ShortText
    titles: Annotated[list[TitleIn], Field(max_length=MAX_TITLES)]


class Ok(BaseModel):
    ok: bool


class Health(BaseModel):
    ok: bool
    version: str


class Problem(BaseModel):
    detail: str


class LatestUpdate(BaseModel):
    """`GET /api/v1/updates/latest`: the system update a kiosk should run (ARCHITECTURE.md)."""
    id: int
    version: str
    size: int
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    url: str
    published_at: str


class LatestBatch(BaseModel):
    """`GET /api/v1/batches/latest`, and each of `GET /api/v1/batches`: an e-book batch for
    the kiosk's library (ARCHITECTURE.md). `titles` is its manifest's title count."""
    id: int
    batch: str
    size: int
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    url: str
    published_at: str
    titles: int


class BatchList(BaseModel):
    """`GET /api/v1/batches`: every live batch for the kiosk's library, oldest first, so that
    a kiosk that missed some applies them in turn."""
    batches: list[LatestBatch]
