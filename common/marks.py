"""The message-id marker, `N_`, for text translated later by a `Translator`.

Pure standard library (none at all), so the kiosk's core names its screen text with it without
loading a gettext catalogue; the kiosk's and the central server's translations re-export it.
"""


def N_(message: str) -> str:
    """Marks a message id for the catalogue test without translating it here."""
    return message
