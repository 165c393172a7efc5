"""The central server and a downloader as the config sets them, for every pull (system updates
and e-book batches): [central] says where and how patiently to ask, [updates] the one
maintenance window's bandwidth limit and the space a download leaves free."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kiosk.config import Config
from kiosk.delivery.download import Downloader
from kiosk.delivery.space import MB
from kiosk.delivery.throttle import RateLimit
from kiosk.upload.sender import Central, RetryPolicy, read_token


def central_for(config: Config, *, sleep: Callable[[float], None],
                clock: Callable[[], float]) -> Central:
    """Raises CentralRequestError when the kiosk's token cannot be read."""
    s = config.central
    return Central(s.url, read_token(config.central_token_path),
                   timeout=(s.connect_timeout_s, s.timeout_s),
                   policy=RetryPolicy(s.retries, s.backoff_s, s.retry_budget_s),
                   sleep=sleep, clock=clock)


def downloader_for(config: Config, folder: Path, central: Central, *,
                   keep_going: Callable[[], bool], on_progress: Callable[[int, int], None],
                   sleep: Callable[[float], None], clock: Callable[[], float]) -> Downloader:
    u = config.updates
    return Downloader(folder, central,
                      limit=RateLimit.kbps(u.max_rate_kbps, clock=clock, sleep=sleep),
                      reserve_bytes=u.reserve_mb * MB, keep_going=keep_going,
                      on_progress=on_progress)
