"""`central.toml`: the server's one [central] section, read into a frozen dataclass.

Unknown options, wrong types and out-of-range values stop start-up with the file and option.
`--db` on the command line overrides `db`, so a quick trial needs no file at all.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central.errors import CentralConfigError

DEFAULT_PATH = Path("/etc/kiosk/central.toml")


@dataclass(frozen=True)
class CentralConfig:
    # Where the SQLite file and the session key live (when `db` is empty: SQLite in here).
    data_dir: str = "/var/lib/kiosk-central"
    # "" (SQLite in data_dir), "sqlite:///path/file.sqlite3" or "postgresql://user@host/db".
    db: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # A kiosk whose last heartbeat is older than this shows as silent on the fleet page.
    silent_after_min: int = 60
    # Request bodies larger than this are refused with 413 before they are read whole.
    max_body_kb: int = 8192
    # Staff sign-ins last this long; set cookie_secure when the server is behind HTTPS.
    session_hours: int = 12
    cookie_secure: bool = False
    # Where published releases (update bundles) and unfinished uploads are kept; "" is
    # data_dir/releases. Give it room: a system bundle is a few hundred MB.
    releases_dir: str = ""
    # A release file (an upload from the page or `release publish`) may be at most this large.
    max_release_mb: int = 4096

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{Path(self.data_dir) / 'central.sqlite3'}"

    @property
    def secret_path(self) -> Path:
        return Path(self.data_dir) / "session.key"

    @property
    def releases_path(self) -> Path:
        return Path(self.releases_dir or Path(self.data_dir) / "releases")


_RANGES = {"port": (0, 65535), "silent_after_min": (1, 10080), "max_body_kb": (64, 262144),
           "session_hours": (1, 720), "max_release_mb": (1, 65536)}


def load(path: str | Path | None, **overrides: Any) -> CentralConfig:
    """The config at `path` (or the default file if it exists, else defaults), then overrides."""
    values: dict[str, Any] = {}
    source = Path(path) if path else DEFAULT_PATH
    if path or source.exists():
        values = _read(source)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return CentralConfig(**values)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CentralConfigError(f"{path}: cannot read the config: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise CentralConfigError(f"{path}: not valid TOML: {e}") from None
    extra = sorted(set(data) - {"central"})
    if extra:
        raise CentralConfigError(f"{path}: unknown section(s) {extra}; only [central] is read")
    section = data.get("central", {})
    fields = {f.name: f for f in dataclasses.fields(CentralConfig)}
    for name, value in section.items():
        if name not in fields:
            raise CentralConfigError(
                f"{path}: unknown option '{name}' in [central]; known: {sorted(fields)}")
        kind = type(fields[name].default)
        if type(value) is not kind:
            raise CentralConfigError(
                f"{path}: option '{name}' in [central] must be {kind.__name__}, not {value!r}")
        if name in _RANGES:
            low, high = _RANGES[name]
            if not low <= value <= high:
                raise CentralConfigError(
                    f"{path}: option '{name}' in [central] must be between {low} and {high}")
    return dict(section)
