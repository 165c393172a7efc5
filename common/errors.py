"""The project's one exception root, and the errors every deployable shares. Each error also
inherits the builtin it resembles, so a caller may catch either."""


class KioskError(Exception):
    """Root of every error the project raises on purpose: the kiosk's, the content tools' and
    the central server's."""


class ConfigError(KioskError, ValueError):
    """The configuration cannot be used; start-up stops with this message."""


class FontMissingError(KioskError, FileNotFoundError):
    """No font that can draw Chinese text was found."""
