"""`IlsSettings`: what the SIP2 client needs to know, and the `[ils]` config section itself.

Each option's name, default and allowed values are written here once: `kiosk.config` loads the
`[ils]` section straight into this dataclass and checks values against each field's metadata
(the keys `min`, `max` and `choices` its checker reads). This package never imports the config.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.toml_options import option

CHARSETS = ("utf-8", "gbk", "cp850")
NO_DUE_DATE = ("blanks", "transaction_date")
EMPTY_FIELDS = ("omit", "send")
# SC status (99) this often while idle: well inside the 60 s after which many servers close
# an idle link.
HEARTBEAT_S = 45.0


@dataclass(frozen=True)
class IlsSettings:
    host: str = ""                   # "" means no ILS is configured
    port: int = option(6001, min=1, max=65535)
    tls: bool = False
    tls_verify: bool = True
    tls_ca: str = ""                 # a CA file; "" means the system's CAs
    username: str = ""               # "" means no 93 login
    password: str = ""
    location: str = ""               # CP in the login, AP in checkins
    institution: str = ""            # AO
    terminal_password: str = ""      # AC
    charset: str = option("utf-8", choices=CHARSETS)
    timeout_s: float = option(5.0, min=0.5, max=120.0)
    # Resends of one message before its reply counts as lost.
    retries: int = option(2, min=0, max=10)
    heartbeat_s: float = option(HEARTBEAT_S, min=5.0, max=3600.0)
    checksums: bool = True           # send AY/AZ (SIP2 "error detection")
    # Field quirks of real servers: the nb due date we never know, as 18 blanks or as the
    # transaction date again for servers that reject blanks; empty optional fields left out,
    # or sent as "XX|".
    no_due_date: str = option("blanks", choices=NO_DUE_DATE)
    empty_fields: str = option("omit", choices=EMPTY_FIELDS)

    @classmethod
    def from_config(cls, config) -> IlsSettings:
        """From a `kiosk.config.Config`: its `[ils]` section is already these settings."""
        ils = config.ils
        if not isinstance(ils, cls):
            raise TypeError(f"config.ils is a {type(ils).__name__}, not {cls.__name__}")
        return ils

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"
