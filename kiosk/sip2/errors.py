"""The SIP2 client's errors, rooted at `kiosk.errors.KioskError`.

An ILS that *answered* no (a checkout refused) is not an error: it is a result with ok=False.
"""

from __future__ import annotations

from kiosk.errors import KioskError


class IlsError(KioskError):
    """Anything that went wrong talking to the ILS."""


class IlsUnavailable(IlsError, ConnectionError):
    """The ILS cannot be reached now: no connection, a reset, no reply within the retries.
    The circulation worker treats this as "the ILS is away"."""


class IlsOutcomeUnknown(IlsError):
    """A checkout, checkin or renewal went out and its reply was lost or unreadable, and the
    ILS could not be asked what it did: it may or may not have been carried out. Never a
    failure and never offline: the patron is told the result is unknown and staff check it."""


class IlsRefused(IlsError, PermissionError):
    """The ILS refused the login (94 with ok=0): a configuration fault for staff."""


class IlsProtocolError(IlsError, ValueError):
    """A reply that cannot be understood, even after resends."""


class IlsUnsupported(IlsError, NotImplementedError):
    """The ILS says (in BX) it does not implement a message the operation needs."""


class IlsBadRequest(IlsError, ValueError):
    """A value that cannot be sent: it holds '|' or a control character, or is too long."""
