"""The central server's errors, under the project's one exception root."""

from kiosk.errors import ConfigError, KioskError


class CentralError(KioskError):
    """Root of every error the central server raises on purpose."""


class CentralConfigError(CentralError, ConfigError):
    """The server's configuration or command line cannot be used."""


class StorageError(CentralError, RuntimeError):
    """The database cannot be opened or is not the schema this version knows."""


class NotFound(CentralError, LookupError):
    """A kiosk or user named on the command line does not exist."""


class AlreadyExists(CentralError, ValueError):
    """A kiosk or user of that name exists already."""


class BatchConflict(CentralError, ValueError):
    """A batch that would count rows twice (overlapping seq range, or a reused batch id)."""
