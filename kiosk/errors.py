"""The kiosk's one exception root; each error also inherits the builtin it resembles."""


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose."""


class ConfigError(KioskError, ValueError):
    """The configuration cannot be used; start-up stops with this message."""


class JournalError(KioskError, RuntimeError):
    """The journal cannot be opened or written."""


class FontMissingError(KioskError, FileNotFoundError):
    """No font that can draw Chinese text was found."""
