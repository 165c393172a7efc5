"""The ingest gate: at most `slots` count uploads are read, checked and stored at once. The
others wait in line, first come first served; one that has waited `wait_s` without its turn is
answered 503 with a Retry-After, which the kiosk's uploader honours (kiosk/upload/sender.py).
So 300 kiosks catching up at once get quick answers, a batch or a "come back in N s", instead
of piling into the database until they time out.

ASGI middleware on uvicorn's event loop, in front of the body being read: a request in line
holds its socket and what uvicorn buffered of it (64 KiB), not its parsed batch. The database's
own refusals (DatabaseBusy, a PostgreSQL that cannot be reached) become 503s here as well.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import random
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from central.errors import StorageError

log = logging.getLogger(__name__)
GATED = frozenset({"/api/v1/counts"})
MAX_RETRY_AFTER_S = 120  # the kiosk gives up a run past its retry budget (300 s by default)


class Gate:
    """Slots and a line; runs on the event loop alone, so it needs no lock."""

    def __init__(self, slots: int, wait_s: float, rng: random.Random | None = None) -> None:
        self.slots = slots
        self.wait_s = wait_s
        self._free = slots
        self._line: collections.deque[asyncio.Future[None]] = collections.deque()
        self._service_s = 0.5  # a running mean of how long one upload holds its slot
        self._promised = 0.0   # monotonic time of the last turn handed out with a 503
        self._rng = rng or random.Random()

    @property
    def waiting(self) -> int:
        return len(self._line)

    async def enter(self) -> bool:
        """True with a slot taken (leave() gives it back); False after wait_s in line."""
        if self._free and not self._line:
            self._free -= 1
            return True
        turn = asyncio.get_running_loop().create_future()
        self._line.append(turn)
        try:
            await asyncio.wait_for(asyncio.shield(turn), self.wait_s)
            return True
        except asyncio.TimeoutError:
            if turn.done():  # handed over just as the wait ended
                return True
            self._line.remove(turn)
            return False
        except BaseException:  # the request was cancelled
            if turn.done() and not turn.cancelled():
                self.leave(None)  # the slot came with it: pass it on
            else:
                self._line.remove(turn)
                turn.cancel()
            raise

    def leave(self, held_s: float | None) -> None:
        if held_s is not None:
            self._service_s += (held_s - self._service_s) / 8
        while self._line:
            turn = self._line.popleft()
            if not turn.done():
                turn.set_result(None)  # the slot goes straight to the next in line
                return
        self._free += 1

    def retry_after_s(self) -> int:
        """When to come back: turns handed out at the rate the server takes uploads, after
        the kiosks sent away before this one. Those behind it in line are sent away too, or
        taken meanwhile; so the server stays busy without a crowd at its door."""
        now = time.monotonic()
        each_s = self._service_s / self.slots  # one upload's share of the server
        turn = max(now + self._service_s, self._promised)
        self._promised = turn + each_s
        after_s = turn - now + self._rng.uniform(0.0, 1.0)
        return min(MAX_RETRY_AFTER_S, max(1, math.ceil(after_s)))


class IngestGate:
    """The middleware: POSTs to the GATED paths go through `gate`; anything else passes."""

    def __init__(self, app: ASGIApp, gate: Gate, paths: frozenset[str] = GATED) -> None:
        self.app = app
        self.gate = gate
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST"
                or scope["path"] not in self.paths):
            await self.app(scope, receive, send)
            return
        if not await self.gate.enter():
            after = self.gate.retry_after_s()
            log.warning("upload to %s refused after %.1f s in line (%d waiting): come back in "
                        "%d s", scope["path"], self.gate.wait_s, self.gate.waiting, after)
            await busy(after)(scope, receive, send)
            return
        started = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave(time.monotonic() - started)


def busy(after_s: int, why: str = "the server is busy with other kiosks' uploads") -> Response:
    return JSONResponse({"detail": f"{why}; try again in {after_s} s"}, status_code=503,
                        headers={"Retry-After": str(after_s)})


async def _storage_error(request: Request, exc: Exception) -> Response:
    """The database busy or unreachable: a 503 the kiosk retries, not a 500's traceback."""
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return busy(5, "the server cannot reach its database just now")


def install(app: FastAPI, slots: int, wait_s: float) -> Gate:
    """The gate in front of every other middleware, and the 503 for storage errors."""
    gate = Gate(slots, wait_s)
    app.add_middleware(IngestGate, gate=gate)
    app.add_exception_handler(StorageError, _storage_error)
    return gate
