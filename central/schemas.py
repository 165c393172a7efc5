"""The wire contract with the kiosks' uploader, as pydantic models (and so in /openapi.json).

Bounds are part of the contract: a field out of them is a 422. The row limit is not a schema
bound, because a batch over it must be answered 413 (send smaller batches), not 422.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_COUNTS = 5000
MAX_TITLES = 100_000
# Seq numbers stay exact as JSON numbers everywhere (2^53); a journal never gets near it.
MAX_SEQ = 2**53 - 1
MAX_N = 2**31 - 1

KioskId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
ShortText = Annotated[str, Field(max_length=200)]
# A release's id as a path parameter: what both databases store exactly.
ReleaseId = Annotated[int, Path(ge=1, le=MAX_SEQ, description="the release's id")]


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                               json_schema_extra={"format": "date"},
                               description="the kiosk's local date")]
    hour: Annotated[int, Field(ge=0, le=23)]
    event: Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]
    outcome: Annotated[str, Field(pattern=r"^[a-z_ ]{1,64}$")]
    key: Annotated[str | None, Field(pattern=r"^book:[A-Za-z0-9_-]{1,64}$")] = None
    n: Annotated[int, Field(ge=1, le=MAX_N)]

    @field_validator("date")
    @classmethod
    def _real_date(cls, value: str) -> str:
        dt.date.fromisoformat(value)  # 2026-02-30 is refused here
        return value


class CountsBatch(BaseModel):
    kiosk_id: KioskId
    batch_id: uuid.UUID
    first_seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    last_seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    counts: list[CountIn]

    @model_validator(mode="after")
    def _ordered(self) -> CountsBatch:
        if self.last_seq < self.first_seq:
            raise ValueError("last_seq must not be below first_seq")
        return self


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
