"""The kiosks' API: counts, heartbeats, catalogue titles, health. FastAPI runs these plain
functions on its worker threads; each answers from one database transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from central import __version__
from central.auth import token_digest
from central.errors import BatchConflict
from central.schemas import (
    MAX_COUNTS,
    Catalogue,
    CountsAnswer,
    CountsBatch,
    Health,
    Heartbeat,
    HeartbeatAnswer,
    Ok,
    Problem,
    check_dates,
)
from central.storage import CountRow, Kiosk, Storage, TitleInfo, utc_now

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["kiosks"])
_bearer = HTTPBearer(auto_error=False,
                     description="the kiosk's token from `kiosk-central kiosk add`")

_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or not a known kiosk's"},
    403: {"model": Problem, "description": "the token belongs to another kiosk"},
    400: {"model": Problem, "description": "the body is not JSON"},
    413: {"model": Problem, "description": "the body is too large"}}


def storage(request: Request) -> Storage:
    return request.app.state.storage


def authenticated_kiosk(request: Request,
                        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                        ) -> Kiosk:
    kiosk = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        kiosk = storage(request).kiosk_for_token(token_digest(credentials.credentials))
    if kiosk is None:
        raise HTTPException(401, "missing or unknown kiosk token",
                            headers={"WWW-Authenticate": "Bearer"})
    return kiosk


def _same_kiosk(kiosk: Kiosk, claimed: str) -> None:
    if claimed != kiosk.id:
        log.warning("kiosk %s sent data as %r: refused", kiosk.id, claimed)
        raise HTTPException(403, f"this token belongs to kiosk {kiosk.id!r}, not {claimed!r}")


@router.post("/counts", response_model=CountsAnswer,
             responses={**_AUTH_ERRORS,
                        409: {"model": Problem, "description": "rows already counted under "
                              "another batch id"},
                        413: {"model": Problem, "description": f"over {MAX_COUNTS} counts, "
                              "or the body is too large"}})
def post_counts(batch: CountsBatch, request: Request,
                kiosk: Kiosk = Depends(authenticated_kiosk),
                store: Storage = Depends(storage)) -> CountsAnswer:
    """A batch of counts; sending the same batch again is answered `duplicate: true` and
    counted once."""
    _same_kiosk(kiosk, batch.kiosk_id)
    if len(batch.counts) > MAX_COUNTS:
        raise HTTPException(413, f"{len(batch.counts)} counts in one batch; at most "
                                 f"{MAX_COUNTS}")
    check_dates(batch, request.app.state.clock())
    rows = [CountRow(c.date, c.hour, c.event, c.outcome, c.key, c.n) for c in batch.counts]
    try:
        duplicate = store.ingest(kiosk.id, str(batch.batch_id), batch.first_seq,
                                 batch.last_seq, rows)
    except BatchConflict as e:
        log.warning("kiosk %s: batch %s refused: %s", kiosk.id, batch.batch_id, e)
        raise HTTPException(409, str(e)) from None
    log.info("kiosk %s: batch %s rows %d..%d%s", kiosk.id, batch.batch_id, batch.first_seq,
             batch.last_seq, " (duplicate)" if duplicate else "")
    return CountsAnswer(batch_id=batch.batch_id, duplicate=duplicate)


@router.post("/heartbeat", response_model=HeartbeatAnswer, responses=_AUTH_ERRORS)
def post_heartbeat(beat: Heartbeat, kiosk: Kiosk = Depends(authenticated_kiosk),
                   store: Storage = Depends(storage)) -> HeartbeatAnswer:
    """The kiosk's health; the latest one per kiosk is kept for the fleet page."""
    _same_kiosk(kiosk, beat.kiosk_id)
    store.store_heartbeat(kiosk.id, beat.model_dump(mode="json"))
    return HeartbeatAnswer(ok=True, server_time_utc=utc_now())


@router.post("/catalogue", response_model=Ok, responses=_AUTH_ERRORS)
def post_catalogue(catalogue: Catalogue, kiosk: Kiosk = Depends(authenticated_kiosk),
                   store: Storage = Depends(storage)) -> Ok:
    """Titles' names and categories, so the figures can name the e-books and group them, and
    their licence windows, for the report of licences ending soon."""
    _same_kiosk(kiosk, catalogue.kiosk_id)
    count = store.store_titles(kiosk.id, catalogue.version, [
        TitleInfo(t.id, t.title, t.author, t.category,
                  t.valid_from, t.valid_until) for t in catalogue.titles])
    log.info("kiosk %s: catalogue %s, %d titles", kiosk.id, catalogue.version, count)
    return Ok(ok=True)


@router.get("/health", response_model=Health)
def health() -> Health:
    """No authentication: what `kiosk doctor` may ask to see the server is up."""
    return Health(ok=True, version=__version__)
