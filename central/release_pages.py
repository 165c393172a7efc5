"""The staff's "System updates" and "E-book batches" pages: the releases of the kind with a
withdraw button, and an upload form whose script sends the file in chunks, resumably (see
`central.uploads`), then publishes it. Plain functions run on FastAPI's worker threads; the
chunk route is async so that it can hand the request body to a worker thread as it arrives.

Who may publish: a system update changes every kiosk's software, so administrators only. An
e-book batch is the library's own monthly work: administrators publish batches for any
libraries, library staff for their own library only (the account's library), and staff
withdraw only those. The server never signs either kind: kiosks check the signatures.

The page's script talks JSON with a CSRF header; every answer's `detail` is already in the
reader's language.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect

from central import audit
from central.auth import same_secret
from central.errors import NotFound, ReleaseRefused
from central.i18n import N_
from central.pages import _language, _render, _storage, _user
from central.releases import Release, ReleaseKind, Releases
from central.schemas import ReleaseId
from central.storage import User
from central.uploads import OffsetMismatch, Uploads, UploadState

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
# What the page's script sends at a time: small enough to lose little to a dropped
# connection, large enough that a 500 MB bundle is a hundred requests.
CHUNK_BYTES = 4 * 2**20
STREAMED_PATH = re.compile(r"/releases/uploads/[0-9a-f]{32}")


class UploadStart(BaseModel):
    kind: ReleaseKind = ReleaseKind.SYSTEM  # what it will be published as: who may send it
    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    modified: int = Field(ge=0, description="the file's modification time, ms")


class PublishAsk(BaseModel):
    kind: ReleaseKind = ReleaseKind.SYSTEM
    libraries: list[str] = Field(default=[], max_length=1000)
    all_libraries: bool = False


class Refusal(Exception):
    """An answer for the page's script: a status and a message id."""

    def __init__(self, status: int, msgid: str, **extra) -> None:
        self.status, self.msgid, self.extra = status, msgid, extra


def _releases(request: Request) -> Releases:
    return request.app.state.releases


def _uploads(request: Request) -> Uploads:
    return request.app.state.uploads


def _t(request: Request):
    return request.app.state.translator.bound(_language(request))


def may_publish(user: User, kind: ReleaseKind) -> bool:
    return user.role == "admin" or kind == ReleaseKind.CATALOGUE


def may_withdraw(user: User, release: Release) -> bool:
    """Administrators any release; library staff a batch for their own library alone."""
    return user.role == "admin" or (release.kind == ReleaseKind.CATALOGUE
                                    and release.libraries == (user.library,))


def _publisher_for_script(request: Request, kind: ReleaseKind | None) -> User:
    """The signed-in user, for the script's requests (no redirects: answers); one who may
    publish `kind` when it is given."""
    name = request.session.get("user")
    user = _storage(request).user(name) if isinstance(name, str) else None
    if user is None:
        raise Refusal(401, N_("You are signed out. Sign in again, then choose the file "
                              "again: the upload goes on where it stopped."))
    if kind is not None and not may_publish(user, kind):
        raise Refusal(403, N_("Only administrators may publish system updates."))
    if not same_secret(request.headers.get("x-csrf-token"), request.session.get("csrf")):
        raise Refusal(403, N_("The page had expired. Reload it, then choose the file again."))
    return user


def _answer(request: Request, error: Exception) -> JSONResponse:
    t = _t(request)
    if isinstance(error, Refusal):
        return JSONResponse({"detail": t(error.msgid), **error.extra}, status_code=error.status)
    if isinstance(error, OffsetMismatch):
        return JSONResponse({"detail": t(error.msgid), "offset": error.offset},
                            status_code=409)
    assert isinstance(error, ReleaseRefused)
    return JSONResponse({"detail": t(error.msgid, **error.msg_args)}, status_code=400)


def _state(state: UploadState) -> dict:
    return {"id": state.id, "offset": state.offset, "size": state.size}


@router.get("/releases", response_class=HTMLResponse)
def releases_page(request: Request) -> HTMLResponse:
    user = _user(request)
    if user.role != "admin":
        return _render(request, "releases.html", {"user": user, "page": "releases",
                                                  "forbidden": True}, status=403)
    store = _releases(request)
    return _render(request, "releases.html", {
        "user": user, "page": "releases", "forbidden": False,
        "releases": [r for r in store.all() if r.kind == ReleaseKind.SYSTEM],
        "current": store.current_for(), "libraries": store.libraries(),
        **_upload_form(request, ReleaseKind.SYSTEM),
        **_notice(request, N_("Release {id} is published. Kiosks fetch it in their update "
                              "window."),
                  N_("Release {id} is withdrawn. Kiosks no longer see it."))})


@router.get("/batches", response_class=HTMLResponse)
def batches_page(request: Request) -> HTMLResponse:
    """Every library's batches (the staff's own library's only), newest first."""
    user = _user(request)
    store = _releases(request)
    libraries = store.libraries() if user.role == "admin" else [user.library]
    batches = [r for r in store.all() if r.kind == ReleaseKind.CATALOGUE]
    return _render(request, "batches.html", {
        "user": user, "page": "batches", "libraries": libraries,
        "per_library": [(name, [r for r in batches if r.for_library(name)])
                        for name in libraries],
        "current": store.current_for(),
        "withdrawable": {r.id for r in batches if may_withdraw(user, r)},
        **_upload_form(request, ReleaseKind.CATALOGUE),
        **_notice(request, N_("Batch {version} is published. Kiosks fetch it in their update "
                              "window, check its signature and apply it."),
                  N_("Batch {version} is withdrawn. Kiosks no longer fetch it; kiosks that "
                     "applied it keep it until the next batch."))})


def _notice(request: Request, published: str, withdrawn: str) -> dict:
    """What the page says after it published or withdrew a release (its id in the query)."""
    for key, msgid in (("published", published), ("withdrawn", withdrawn)):
        text = request.query_params.get(key, "")
        release = _releases(request).get(int(text)) if text.isdigit() else None
        if release is not None:
            return {"notice": msgid, "notice_args": {"id": str(release.id),
                                                     "version": release.version}}
    return {"notice": None, "notice_args": {}}


def _upload_form(request: Request, kind: ReleaseKind) -> dict:
    """The upload form's settings and what its script says, in the reader's language."""
    t = _t(request)
    batch = kind == ReleaseKind.CATALOGUE
    return {"kind": kind.value, "chunk_bytes": CHUNK_BYTES,
            "max_mb": request.app.state.config.max_release_mb,
            "texts": {
                "progress": t("{done} MB of {total} MB ({percent}%)"),
                "resuming": t("Going on from {done} MB that the server has."),
                "retrying": t("The connection was lost. Trying again in {seconds} s…"),
                "checking": t("All sent. Checking the batch…") if batch
                else t("All sent. Checking the bundle…"),
                "choose": t("Choose an e-book batch (.tar) first.") if batch
                else t("Choose an update bundle (.raucb) first."),
                "libraries": t("Choose the libraries, or all libraries."),
                "failed": t("The upload stopped: {why}")}}


@router.post("/releases/uploads")
def upload_start(request: Request, ask: UploadStart) -> JSONResponse:
    """A new upload, or the one of this file already under way (then from its offset)."""
    try:
        user = _publisher_for_script(request, ask.kind)
        state = _uploads(request).start(user.name, ask.name, ask.size, ask.modified)
    except (Refusal, ReleaseRefused) as e:
        return _answer(request, e)
    return JSONResponse(_state(state))


@router.get("/releases/uploads/{upload_id}")
def upload_status(request: Request, upload_id: str) -> JSONResponse:
    try:
        user = _publisher_for_script(request, None)
        return JSONResponse(_state(_uploads(request).state(upload_id, user.name)))
    except (Refusal, ReleaseRefused) as e:
        return _answer(request, e)


@router.put("/releases/uploads/{upload_id}")
async def upload_chunk(request: Request, upload_id: str,
                       offset: Annotated[int, Query(ge=0)]) -> Response:
    """The body's bytes go at `offset`: written as they arrive, on a worker thread."""
    try:
        user = await run_in_threadpool(_publisher_for_script, request, None)
    except Refusal as e:
        return _answer(request, e)
    body = request.stream().__aiter__()

    async def next_piece() -> bytes | None:
        try:
            return await body.__anext__()
        except StopAsyncIteration:
            return None

    def pieces():
        while (piece := anyio.from_thread.run(next_piece)) is not None:
            if piece:
                yield piece

    try:
        state = await anyio.to_thread.run_sync(_uploads(request).write, upload_id, user.name,
                                               offset, pieces())
    except ClientDisconnect:
        log.info("upload %s: the connection dropped; the bytes received are kept", upload_id)
        return Response(status_code=400)
    except ReleaseRefused as e:
        return _answer(request, e)
    return JSONResponse(_state(state))


@router.post("/releases/uploads/{upload_id}/publish")
def upload_publish(request: Request, upload_id: str, ask: PublishAsk) -> JSONResponse:
    """The complete upload becomes a release (or is refused, and deleted, with the reason)."""
    try:
        user = _publisher_for_script(request, ask.kind)
        if ask.all_libraries == bool(ask.libraries):
            raise Refusal(400, N_("Choose the libraries, or all libraries."))
        if user.role != "admin" and (ask.all_libraries or set(ask.libraries) != {user.library}):
            raise Refusal(403, N_("Library staff publish batches for their own library only."))
        staged = _uploads(request).finish(upload_id, user.name)
        release = _releases(request).publish(staged, ask.kind, ask.libraries,
                                             ask.all_libraries, user.name, _change(request, user))
    except (Refusal, ReleaseRefused) as e:
        if isinstance(e, ReleaseRefused):
            log.warning("%s could not publish upload %s: %s", user.name, upload_id, e)
        return _answer(request, e)
    return JSONResponse({"release": _described(release),
                         "next": f"{_page_of(release)}?published={release.id}"})


def _page_of(release: Release) -> str:
    return "/batches" if release.kind == ReleaseKind.CATALOGUE else "/releases"


def _described(release: Release) -> dict:
    return {"id": release.id, "kind": release.kind.value, "version": release.version,
            "size": release.size, "sha256": release.sha256}


@router.post("/releases/{release_id}/withdraw")
def withdraw(request: Request, release_id: ReleaseId, csrf: str = Form("")) -> Response:
    user = _user(request)
    store = _releases(request)
    found = store.get(release_id)
    back = _page_of(found) if found else "/batches"
    if (found is None or not may_withdraw(user, found)
            or not same_secret(csrf, request.session.get("csrf"))):
        return RedirectResponse(back, status_code=303)
    try:
        release = store.withdraw(release_id, _change(request, user))
    except NotFound:
        return RedirectResponse(back, status_code=303)
    log.info("%s withdrew release %d (%s %s)", user.name, release.id, release.kind,
             release.version)
    return RedirectResponse(f"{back}?withdrawn={release.id}", status_code=303)


def _change(request: Request, user: User) -> audit.Change:
    """The signed-in user, and the address the request came from, for the audit log."""
    return audit.Change(user.name, request.client.host if request.client else "")
