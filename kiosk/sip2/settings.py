"""`IlsSettings`: what the SIP2 client needs to know, built from the `[ils]` config section."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

CHARSETS = ("utf-8", "gbk", "cp850")
NO_DUE_DATE = ("blanks", "transaction_date")
EMPTY_FIELDS = ("omit", "send")
# SC status (99) this often while idle: well inside the 60 s after which many servers close
# an idle link (the one source of this default; kiosk.config reads it).
HEARTBEAT_S = 45.0


@dataclass(frozen=True)
class IlsSettings:
    host: str = ""
    port: int = 6001
    tls: bool = False
    tls_verify: bool = True
    tls_ca: str = ""                 # a CA file; "" means the system's CAs
    username: str = ""               # "" means no 93 login
    password: str = ""
    location: str = ""               # CP in the login, AP in checkins
    institution: str = ""            # AO
    terminal_password: str = ""      # AC
    charset: str = "utf-8"
    timeout_s: float = 5.0
    retries: int = 2                 # resends of one message before its reply counts as lost
    heartbeat_s: float = HEARTBEAT_S
    checksums: bool = True           # send AY/AZ (SIP2 "error detection")
    # Field quirks of real servers:
    no_due_date: str = "blanks"      # the nb due date we never know: 18 blanks, or the
                                     # transaction date again for servers that reject blanks
    empty_fields: str = "omit"       # empty optional fields: left out, or sent as "XX|"

    @classmethod
    def from_config(cls, config) -> IlsSettings:
        """From a `kiosk.config.Config`: its `[ils]` section has the same option names."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in dataclasses.asdict(config.ils).items()
                       if key in names})

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"
