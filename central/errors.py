"""The central server's errors, under the project's one exception root."""

from common.errors import ConfigError, KioskError


class CentralError(KioskError):
    """Root of every error the central server raises on purpose."""


class CentralConfigError(CentralError, ConfigError):
    """The server's configuration or command line cannot be used."""


class StorageError(CentralError, RuntimeError):
    """The database cannot be opened or is not the schema this version knows."""


class DatabaseBusy(StorageError):
    """A write found no turn at the database in time; the kiosk's API answers 503."""


class NotFound(CentralError, LookupError):
    """A kiosk or user named on the command line does not exist."""


class AlreadyExists(CentralError, ValueError):
    """A kiosk or user of that name exists already."""


class BatchConflict(CentralError, ValueError):
    """A batch that would count rows twice (overlapping seq range, or a reused batch id)."""


class CannotRemove(CentralError, ValueError):
    """A batch of counts removed already, or accepted before its counts were kept apart."""


class ReleaseRefused(CentralError, ValueError):
    """A release cannot be published (not a bundle, a version published already, an unknown
    library, a broken upload). `str()` is for the command line and the log; `msgid` and
    `args` are what the staff page shows, in the reader's language."""

    def __init__(self, detail: str, msgid: str, **args: str) -> None:
        super().__init__(detail)
        self.msgid = msgid
        self.msg_args = args
