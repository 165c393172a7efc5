"""Security headers on every answer of the server: a Content-Security-Policy that lets the
staff pages load only their own script and stylesheet and never be framed, nosniff, a referrer
policy, and no-store on everything but static files and the kiosks' API (figures and account
pages stay out of shared caches and the browser's disk). Runs on uvicorn's event loop.

The pages' one inline stylesheet (base.html) carries a per-answer nonce, `request.state.
csp_nonce`; inline `style="..."` attributes stay allowed (style-src-attr): autoescaping already
keeps page text out of attributes, and scripts, which matter, are only `/static` files.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# FastAPI's own documentation pages load their script from a CDN and run an inline one; they
# exist only when `api_docs = true`, and then go without a policy.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
UNCACHED_EXCEPT = ("/static/", "/api/")


def policy(nonce: str) -> str:
    return "; ".join((
        "default-src 'none'", "script-src 'self'", f"style-src 'self' 'nonce-{nonce}'",
        "style-src-attr 'unsafe-inline'", "img-src 'self' data:", "connect-src 'self'",
        "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'"))


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, docs: bool) -> None:
        self.app = app
        self.docs = docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        path: str = scope["path"]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                headers["X-Frame-Options"] = "DENY"  # frame-ancestors for older browsers
                if not (self.docs and path in DOCS_PATHS):
                    headers["Content-Security-Policy"] = policy(nonce)
                if not path.startswith(UNCACHED_EXCEPT) and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
