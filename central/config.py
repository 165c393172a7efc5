"""`central.toml`: the server's one [central] section, read into a frozen dataclass.

Unknown options, wrong types and out-of-range values stop start-up with the file and option.
`--db` on the command line overrides `db`, so a quick trial needs no file at all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central.errors import CentralConfigError
from common.toml_options import Wording, build_section, option, read_toml

DEFAULT_PATH = Path("/etc/kiosk/central.toml")


@dataclass(frozen=True)
class CentralConfig:
    # Where the SQLite file and the session key live (when `db` is empty: SQLite in here).
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
    # Count uploads read and stored at once (central/ingest_gate.py); the others wait in line,
    # and after ingest_wait_s there get 503 with a Retry-After (well inside the kiosks' 30 s).
    ingest_slots: int = option(4, min=1, max=64)
    ingest_wait_s: float = option(3.0, min=0.1, max=25.0)

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{Path(self.data_dir) / 'central.sqlite3'}"

    @property
    def secret_path(self) -> Path:
        return Path(self.data_dir) / "session.key"

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
    return dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})


def _read(path: Path) -> CentralConfig:
    data = read_toml(path, WORDING)
    extra = sorted(set(data) - {"central"})
    if extra:
        raise CentralConfigError(f"{path}: unknown section(s) {extra}; only [central] is read")
    section = data.get("central", {})
    return build_section(CentralConfig, "central", section, dict.fromkeys(section, path),
                         WORDING)
