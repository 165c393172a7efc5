"""The app factory: one FastAPI app with the kiosks' API, the staff pages and the OpenAPI
description (/openapi.json; /docs only with `api_docs`). uvicorn's event loop runs the
middleware; route functions run on FastAPI's worker threads.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from central import __version__, account_pages, api, ingest_gate, pages, release_api, release_pages
from central.config import CentralConfig
from central.headers import SecurityHeaders
from central.i18n import Translator
from central.releases import Releases
from central.sessions import Limits, ServerSessions, SessionStore
from central.storage import Storage
from central.uploads import Uploads


def create_app(config: CentralConfig, storage: Storage, *,
               clock=lambda: dt.datetime.now(dt.timezone.utc)) -> FastAPI:
    """`clock` gives the fleet page its now (a kiosk silent for over an hour is shown so)."""
    app = FastAPI(title="Library kiosk central server", version=__version__,
                  description="Kiosks upload counts and heartbeats; staff read the figures.",
                  docs_url="/docs" if config.api_docs else None,
                  redoc_url="/redoc" if config.api_docs else None)
    app.state.storage = storage
    app.state.config = config
    app.state.translator = Translator()
    app.state.clock = clock
    app.state.releases = Releases(storage.db, config.releases_path)
    app.state.uploads = Uploads(app.state.releases.incoming, config.max_release_mb * 2**20)
    app.include_router(api.router)
    app.include_router(release_api.router)
    app.include_router(pages.router)
    app.include_router(release_pages.router)
    app.include_router(account_pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).resolve().parent / "static"),
              name="static")
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(pages.SignInRequired, pages.to_sign_in)
    app.add_middleware(ServerSessions, store=SessionStore(storage.db, Limits(
        idle=dt.timedelta(minutes=config.session_idle_min),
        absolute=dt.timedelta(hours=config.session_hours))), secure=config.cookie_secure)
    # Upload chunks stream to disk and are bounded by the release size instead.
    app.add_middleware(BodyLimit, limit=config.max_body_kb * 1024,
                       streamed=release_pages.STREAMED_PATH)
    app.add_middleware(SecurityHeaders, docs=config.api_docs)
    ingest_gate.install(app, config.ingest_slots, config.ingest_wait_s)  # before the pages' own
    if config.trusted_proxies.strip():  # outermost: all after it see the client's own address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=config.trusted_proxies)
    return app


async def _validation_error(request: Request, exc: Exception) -> Response:
    """Malformed JSON is a 400 by the contract; a body that breaks the schema stays 422."""
    assert isinstance(exc, RequestValidationError)  # registered for this one alone
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return JSONResponse({"detail": f"the body is not valid JSON: "
                                           f"{error.get('ctx', {}).get('error', '')}".rstrip(": ")},
                                status_code=400)
    return await request_validation_exception_handler(request, exc)


class BodyLimit:
    """Reads a request body up to `limit` bytes and answers 413 past it, with or without a
    Content-Length, before any route sees it."""

    def __init__(self, app: ASGIApp, limit: int, streamed: re.Pattern | None = None) -> None:
        self.app = app
        self.limit = limit
        self.streamed = streamed  # paths whose route reads the body itself, as a stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.streamed is not None
                                       and self.streamed.fullmatch(scope["path"])):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        response = JSONResponse({"detail": f"the body is over {self.limit // 1024} KiB"},
                                status_code=413)
        await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
