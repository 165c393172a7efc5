"""`central.toml`: the server's one [central] section, read into a frozen dataclass.

Unknown options, wrong types and out-of-range values stop start-up with the file and option.
`--db` on the command line overrides `db`, so a quick trial needs no file at all.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from central.errors import CentralConfigError
from common.toml_options import Wording, build_section, option, read_toml

DEFAULT_PATH = Path("/etc/kiosk/central.toml")
_PROXY = r"[0-9A-Fa-f:.]+(/[0-9]{1,3})?"
TRUSTED_PROXIES = re.compile(rf"\s*(\*|{_PROXY}(\s*,\s*{_PROXY})*)\s*$")


@dataclass(frozen=True)
class CentralConfig:
    # Where the SQLite file lives when `db` is empty, and releases unless releases_dir is set.
    data_dir: str = "/var/lib/kiosk-central"
    # "" (SQLite in data_dir), "sqlite:///path/file.sqlite3" or "postgresql://user@host/db".
    db: str = ""
    host: str = "127.0.0.1"
    port: int = option(8000, min=0, max=65535)
    # A kiosk whose last heartbeat is older than this shows as silent on the fleet page.
    silent_after_min: int = option(60, min=1, max=10080)
    # Request bodies larger than this are refused with 413 before they are read whole.
    max_body_kb: int = option(8192, min=64, max=262144)
    # Staff sign-ins last this long; set cookie_secure when the server is behind HTTPS.
    session_hours: int = option(12, min=1, max=720)
    cookie_secure: bool = False
    # Where published releases (update bundles) and unfinished uploads are kept; "" is
    # data_dir/releases. Give it room: a system bundle is a few hundred MB.
    releases_dir: str = ""
    # A release file (an upload from the page or `release publish`) may be at most this large.
    max_release_mb: int = option(4096, min=1, max=65536)
    # The library's time zone, an IANA name (Debian's tzdata): the fleet page shows times in it.
    time_zone: str = "Asia/Shanghai"
    # FastAPI's /docs and /redoc pages load their scripts from a CDN: off unless asked for.
    # /openapi.json, the API's description, is always served.
    api_docs: bool = False
    # A staff session ends after this long without a request (and session_hours after
    # sign-in whatever happens).
    session_idle_min: int = option(60, min=5, max=1440)
    # The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (uvicorn's
    # ProxyHeadersMiddleware): addresses or networks, comma-separated; "" believes none, "*" any.
    # The audit log and the sign-in throttle then see the patron's or librarian's address.
    trusted_proxies: str = option("127.0.0.1", pattern=TRUSTED_PROXIES,
                                  hint="IP addresses or networks separated by commas, or *")
    # Count uploads read and stored at once (central/ingest_gate.py); the others wait in line,
    # and after ingest_wait_s there get 503 with a Retry-After (well inside the kiosks' 30 s).
    ingest_slots: int = option(4, min=1, max=64)
    ingest_wait_s: float = option(3.0, min=0.1, max=25.0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)  # checked at start by load(); ZoneInfo caches it

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{Path(self.data_dir) / 'central.sqlite3'}"

    @property
    def releases_path(self) -> Path:
        return Path(self.releases_dir or Path(self.data_dir) / "releases")


WORDING = Wording(
    error=CentralConfigError,
    unreadable="{path}: cannot read the config: {reason}",
    where="{path}: option '{name}' in [{section}]",
    unknown="{path}: unknown option '{name}' in [{section}]; known: {known}",
    wrong_kind="{where} must be {expected}, not {value!r}",
    kind_names={str: "str", int: "int", float: "float", bool: "bool"},
    below_min="{where} must be between {min} and {max}",
    above_max="{where} must be between {min} and {max}",
)


def load(path: str | Path | None, **overrides: Any) -> CentralConfig:
    """The config at `path` (or the default file if it exists, else defaults), then overrides."""
    source = Path(path) if path else DEFAULT_PATH
    config = _read(source) if path or source.exists() else CentralConfig()
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    check_zone(config.time_zone, source)
    return config


def check_zone(name: str, path: Path) -> None:
    """A name zoneinfo knows (`Asia/Shanghai`), or the error saying what to write instead."""
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # not found, or not a zone's name at all
        raise CentralConfigError(
            f"{WORDING.where.format(path=path, section='central', name='time_zone')} is not a "
            f"time zone this machine knows (got {name!r}); write an IANA name such as "
            "Asia/Shanghai or Asia/Urumqi (Debian's tzdata package holds them)") from None


def _read(path: Path) -> CentralConfig:
    data = read_toml(path, WORDING)
    extra = sorted(set(data) - {"central"})
    if extra:
        raise CentralConfigError(f"{path}: unknown section(s) {extra}; only [central] is read")
    section = data.get("central", {})
    return build_section(CentralConfig, "central", section, dict.fromkeys(section, path),
                         WORDING)
