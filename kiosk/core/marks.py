"""The message-id marker for screen text the core names; kiosk.i18n translates it later.

Pure, any thread. Here rather than in kiosk.i18n so that the core loads no gettext catalogue.
"""


def N_(message: str) -> str:
    """Marks a message id for the catalogue test without translating it here."""
    return message
