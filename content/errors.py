"""Errors of the e-book content: a catalogue that cannot be read, a batch that is refused."""

from __future__ import annotations

from common.errors import KioskError


class ContentError(KioskError):
    """Something in the e-book content cannot be used."""


class BatchError(ContentError, ValueError):
    """A batch is refused; the message says why, for staff."""
