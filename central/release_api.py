"""The kiosks' side of releases: the latest system update for the kiosk's library (`GET
/api/v1/updates/latest`, as the project's architecture names it), its e-book batches (`GET
/api/v1/batches/latest`, and `GET /api/v1/batches`, every live one oldest first), and a
release's file, resumable with `Range` and `If-Range` (the ETag is the file's SHA-256).
FastAPI runs these on its worker threads; the file is streamed from disk a chunk at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import StreamingResponse

from central.api import _AUTH_ERRORS, authenticated_kiosk
from central.ranges import ByteRange, RangeNotSatisfiable, asked_range, if_range_holds
from central.releases import COPY_CHUNK, Release, ReleaseKind, Releases
from central.schemas import BatchList, LatestBatch, LatestUpdate, Problem, ReleaseId
from central.storage import Kiosk

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["kiosks"])


def releases(request: Request) -> Releases:
    return request.app.state.releases


def release_out(release: Release) -> LatestUpdate:
    return LatestUpdate(id=release.id, version=release.version, size=release.size,
                        sha256=release.sha256, url=release.url,
                        published_at=release.published_at)


@router.get("/updates/latest", response_model=LatestUpdate,
            responses={**_AUTH_ERRORS, 204: {"description": "no update published for the "
                                                             "kiosk's library"}})
def latest_update(kiosk: Kiosk = Depends(authenticated_kiosk),
                  store: Releases = Depends(releases)) -> LatestUpdate | Response:
    """The most recently published system update for the kiosk's library that is not
    withdrawn; 204 No Content when there is none."""
    found = store.current(ReleaseKind.SYSTEM, kiosk.library)
    return release_out(found) if found else Response(status_code=204)


def batch_out(release: Release) -> LatestBatch:
    return LatestBatch(id=release.id, batch=release.version, size=release.size,
                       sha256=release.sha256, url=release.url,
                       published_at=release.published_at, titles=release.titles or 0)


@router.get("/batches/latest", response_model=LatestBatch,
            responses={**_AUTH_ERRORS, 204: {"description": "no e-book batch published for "
                                                             "the kiosk's library"}})
def latest_batch(kiosk: Kiosk = Depends(authenticated_kiosk),
                 store: Releases = Depends(releases)) -> LatestBatch | Response:
    """The newest e-book batch for the kiosk's library that is not withdrawn; 204 No Content
    when there is none. Its file is `url`, resumable like every release's."""
    found = store.current(ReleaseKind.CATALOGUE, kiosk.library)
    return batch_out(found) if found else Response(status_code=204)


@router.get("/batches", response_model=BatchList, responses=_AUTH_ERRORS)
def live_batches(kiosk: Kiosk = Depends(authenticated_kiosk),
                 store: Releases = Depends(releases)) -> BatchList:
    """Every e-book batch for the kiosk's library that is not withdrawn, oldest first (name
    order): a kiosk that missed some applies the ones newer than its own in turn."""
    return BatchList(batches=[batch_out(r) for r in store.live(ReleaseKind.CATALOGUE,
                                                                 kiosk.library)])


_FILE_ANSWERS: dict[int | str, dict[str, Any]] = {**_AUTH_ERRORS,
                 206: {"description": "the part asked for with Range"},
                 404: {"model": Problem, "description": "no such release for this kiosk's "
                       "library, or withdrawn"},
                 416: {"description": "the range starts past the end"}}


@router.head("/releases/{release_id}/file", response_class=Response, responses=_FILE_ANSWERS,
             operation_id="release_file_head")
@router.get("/releases/{release_id}/file", response_class=Response, responses=_FILE_ANSWERS,
            operation_id="release_file")
def release_file(release_id: ReleaseId, request: Request,
                 kiosk: Kiosk = Depends(authenticated_kiosk),
                 store: Releases = Depends(releases)) -> Response:
    """The release's file. `Range: bytes=N-` (or `N-M`, `-N`) gives 206 with Content-Range;
    with `If-Range` naming another ETag the whole file comes back with 200."""
    release = store.for_kiosk(release_id, kiosk.library)
    try:  # opened now: a release withdrawn while it streams is still sent whole
        handle = open(store.path_of(release), "rb") if release else None
    except FileNotFoundError:
        handle = None
    if release is None or handle is None:
        raise HTTPException(404, f"no release {release_id} for this kiosk's library")
    etag = f'"{release.sha256}"'
    headers = {"ETag": etag, "Accept-Ranges": "bytes",
               "Content-Disposition": f'attachment; filename="{Path(release.file).name}"'}
    part = None
    if if_range_holds(request.headers.get("if-range"), etag):
        try:
            part = asked_range(request.headers.get("range"), release.size)
        except RangeNotSatisfiable as e:
            log.info("kiosk %s asked release %d for %s", kiosk.id, release_id, e)
            handle.close()
            return Response(status_code=416, headers={
                **headers, "Content-Range": f"bytes */{release.size}"})
    whole = part is None
    part = part or ByteRange(0, release.size - 1)
    headers["Content-Length"] = str(part.length)
    if not whole:
        headers["Content-Range"] = part.content_range(release.size)
    status = 200 if whole else 206
    log.info("kiosk %s fetches release %d (%s %s) bytes %d-%d", kiosk.id, release.id,
             release.kind, release.version, part.first, part.last)
    if request.method == "HEAD":
        handle.close()
        return Response(status_code=status, headers=headers,
                        media_type="application/octet-stream")
    return StreamingResponse(_read(handle, part), status_code=status, headers=headers,
                             media_type="application/octet-stream")


def _read(handle: BinaryIO, part: ByteRange) -> Iterator[bytes]:
    with handle as f:
        f.seek(part.first)
        left = part.length
        while left > 0:
            chunk = f.read(min(COPY_CHUNK, left))
            if not chunk:  # the file shrank under us: the client sees a short body
                return
            left -= len(chunk)
            yield chunk
