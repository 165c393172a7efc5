"""Requests to the central server: the kiosk's token, a timeout on every call, and retries.

Network errors, 408, 429 and 5xx are retried with exponential back-off and full jitter (a random
wait between 0 and backoff_s * 2^attempt, at most 60 s), a 429's or 503's Retry-After honoured,
up to a number of retries and a total time; anything else that is not a 200 raises at once,
because sending the same request again would get the same answer. Redirects are not followed
(requests would turn a POST into a GET). Runs in the uploader process, a status check's
worker thread for `health()`, and `kiosk update pull` (`get`, and `open_stream` for the
resumable downloads of kiosk.delivery).
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import requests

from kiosk import __version__
from kiosk.errors import CentralRequestError

log = logging.getLogger(__name__)
wire = logging.getLogger("kiosk.upload.wire")
MAX_WAIT_S = 60.0  # one wait between attempts never exceeds this
MAX_RETRY_AFTER_S = 86400.0  # a server's Retry-After beyond a day is read as a day
RETRY_STATUS = frozenset({408, 429}) | frozenset(range(500, 600))
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 5  # attempts after the first
    backoff_s: float = 1.0
    budget_s: float = 300.0  # waiting and trying, in all, for one request

    def wait_s(self, retry: int, rng: random.Random) -> float:
        """Full jitter: anywhere from 0 to the exponential ceiling of this retry (0, 1, ...)."""
        return rng.uniform(0.0, min(MAX_WAIT_S, self.backoff_s * 2 ** retry))


def read_token(path: Path) -> str:
    """The kiosk's token from its file (one line), which only the kiosk user should read."""
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise CentralRequestError(f"no token at {path}: make one on the central server with "
                                  "'kiosk-central kiosk add NAME --library LIBRARY' and save it "
                                  "there (mode 600)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CentralRequestError(f"{path}: cannot read the token: "
                                  f"{getattr(e, 'strerror', None) or e}") from None
    if not token or any(c.isspace() for c in token):
        raise CentralRequestError(f"{path}: not a token (expected one line of letters, digits, "
                                  "- and _)")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("%s: the token is readable by others (mode %o); chmod 600 it", path, mode)
    return token


class Central:
    """One central server, for one kiosk's token. `sleep` and `clock` are injectable so that
    tests can record the back-off instead of waiting for it."""

    def __init__(self, url: str, token: str | None, *, timeout: tuple[float, float],
                 policy: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._policy = policy
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random(int.from_bytes(os.urandom(8), "big"))
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"library-kiosk/{__version__}"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Central:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> dict:
        """GET /api/v1/health once, without retries: for status checks that must answer fast."""
        return self._object("GET", "/api/v1/health", None)

    def post(self, path: str, body: dict) -> dict:
        """POST `body` as JSON, retrying what may succeed later; the reply's JSON on a 200."""
        return self.retrying("POST", path, lambda: self._object("POST", path, body))

    def get(self, path: str, *, empty: frozenset[int] = frozenset()) -> dict | None:
        """GET `path`, retrying what may succeed later; the reply's JSON on a 200, None on a
        status in `empty` (204 No Content: nothing to give), which is logged."""
        return self.retrying("GET", path, lambda: self._once("GET", path, None, empty))

    def retrying(self, method: str, path: str, attempt: Callable[[], T], *,
                 progressed: Callable[[], bool] = lambda: False) -> T:
        """`attempt()` until it returns, retrying the CentralRequestErrors that may succeed later
        within the policy. An attempt that `progressed()` (a download that got bytes before
        the connection dropped) starts the count of retries and the budget afresh."""
        started = self._clock()
        retry = 0
        while True:
            try:
                return attempt()
            except CentralRequestError as e:
                if progressed():
                    started, retry = self._clock(), 0
                if not e.retryable or retry >= self._policy.retries:
                    raise
                wait = self._policy.wait_s(retry, self._rng)
                if e.retry_after_s is not None:
                    wait = max(wait, e.retry_after_s)
                left = started + self._policy.budget_s - self._clock()
                if wait > left:
                    raise CentralRequestError(f"{e} (gave up: the next try would be after "
                                              f"{wait:.0f} s, past the retry budget)",
                                              status=e.status, retryable=True) from None
                retry += 1
                log.warning("%s %s: %s; retry %d of %d in %.1f s", method, path, e, retry,
                            self._policy.retries, wait)
                self._sleep(wait)

    def open_stream(self, location: str, headers: dict[str, str]) -> requests.Response:
        """GET `location` (a path on the server, or an address on the same server) once as a
        stream (a file to download), with the token and the timeouts. Any status comes back
        (200, 206 and 416 all mean something to a resumed download); the caller reads and
        closes the response. No answer at all is a retryable CentralRequestError."""
        url = self.address(location)
        wire.debug("GET %s %s", url, headers)
        try:
            return self._session.get(url, headers=headers, timeout=self._timeout, stream=True,
                                     allow_redirects=False)
        except requests.RequestException as e:
            reason = _brief(e)
            raise CentralRequestError(f"{url}: {reason}", retryable=True, reason=reason) from None

    def address(self, location: str) -> str:
        """The full address of `location`: a path ("/api/...") is joined to [central] url; an
        address must be on the same server (scheme, host and port), since the kiosk's token
        goes with every request. Raises CentralRequestError for any other."""
        if location.startswith("/") and not location.startswith("//"):
            return self.url + location
        if _origin(location) is not None and _origin(location) == _origin(self.url):
            return location
        raise CentralRequestError(f"{location!r} is not on the central server {self.url}: refused "
                                  "(the kiosk's token is sent to [central] url only)")

    def refusal(self, location: str, reply: requests.Response) -> CentralRequestError:
        """A reply that is not what was asked for, as the CentralRequestError any call raises."""
        reason = f"HTTP {reply.status_code}{_detail(reply)}"
        return CentralRequestError(f"{self.address(location)}: {reason}", status=reply.status_code,
                                   reason=reason, retryable=reply.status_code in RETRY_STATUS,
                                   retry_after_s=_retry_after(reply.headers.get("Retry-After")))

    def _object(self, method: str, path: str, body: dict | None) -> dict:
        """`_once` with no status taken as empty: the reply's JSON object, or
        CentralRequestError."""
        answer = self._once(method, path, body)
        if answer is None:  # _once gives None only for a status in `empty`
            raise CentralRequestError(f"{self.url + path}: no answer to take")
        return answer

    def _once(self, method: str, path: str, body: dict | None,
              empty: frozenset[int] = frozenset()) -> dict | None:
        url = self.url + path
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        wire.debug("%s %s %s", method, url, data[:2000] if data else "")
        try:
            reply = self._session.request(
                method, url, data=data, timeout=self._timeout, allow_redirects=False,
                headers={"Content-Type": "application/json"} if data is not None else None)
        except requests.Timeout as e:
            reason = f"no answer in time ({_brief(e)})"
            raise CentralRequestError(f"{url}: {reason}", retryable=True, reason=reason) from None
        except requests.RequestException as e:
            # Dropped connections, refused connections, resets and broken chunked replies.
            reason = _brief(e)
            raise CentralRequestError(f"{url}: {reason}", retryable=True, reason=reason) from None
        wire.debug("%s %s -> %d %s", method, url, reply.status_code, reply.text[:2000])
        if reply.status_code in empty:
            log.info("%s %s: HTTP %d, taken as nothing there", method, url, reply.status_code)
            return None
        if reply.status_code == 200:
            try:
                answer = reply.json()
            except ValueError:
                raise CentralRequestError(f"{url}: HTTP 200 but not JSON; is [central] url the "
                                          "central server?", status=200) from None
            if not isinstance(answer, dict):
                raise CentralRequestError(f"{url}: HTTP 200 but not a JSON object", status=200)
            return answer
        raise self.refusal(path, reply)


def _origin(address: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) address, the port filled in; None for anything else."""
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _detail(reply: requests.Response) -> str:
    if 300 <= reply.status_code < 400:
        return f" (redirected to {reply.headers.get('Location', '?')}; set [central] url to it)"
    try:
        detail = reply.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    if detail is None:
        return f" {reply.reason}" if reply.reason else ""
    text = detail if isinstance(detail, str) else _problems(detail)
    return f": {text[:300]}"


def _problems(detail: object) -> str:
    """A 422's list of schema errors as "counts.0.date: why; ...", without the input each
    one repeats (a whole batch, for a rule about the batch)."""
    if isinstance(detail, list) and all(isinstance(e, dict) and "msg" in e for e in detail):
        return "; ".join(": ".join(filter(None, (
            ".".join(str(part) for part in e.get("loc", ())[1:]), str(e["msg"]))))
            for e in detail)
    return json.dumps(detail, ensure_ascii=False)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit alone takes '²', which float() refuses
        return min(float(value), MAX_RETRY_AFTER_S)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        seconds = (moment - datetime.now(timezone.utc)).total_seconds()
    except (OverflowError, TypeError):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_S)


def _brief(error: Exception) -> str:
    """The innermost reason requests wraps an error around ("Connection refused")."""
    reason: BaseException = error
    while (inner := reason.__cause__ or reason.__context__) is not None:
        reason = inner
    text = str(reason) or type(reason).__name__
    if isinstance(reason, OSError) and reason.strerror:
        text = reason.strerror
    return f"{type(error).__name__}: {text}"[:300]
