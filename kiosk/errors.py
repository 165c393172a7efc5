"""The kiosk's errors, under the project's one exception root (common/errors.py); each error
also inherits the builtin it resembles. `Said` is a message for people that the `kiosk`
command can show in the technician's language."""

from typing import Any

from common.errors import ConfigError as ConfigError
from common.errors import FontMissingError as FontMissingError
from common.errors import KioskError as KioskError


class JournalError(KioskError, RuntimeError):
    """The journal cannot be opened or written. `cause` names why, in words a technician acts
    on: one of JOURNAL_CAUSES ("full": the data partition has no room; "read_only": it is
    mounted read-only or the folder is not writable; "replaced": the file was deleted, swapped
    or truncated under the running kiosk; "damaged": SQLite finds it corrupt or not ours;
    "io": any other failure of the disk)."""

    def __init__(self, message: str, *, cause: str = "io") -> None:
        super().__init__(message)
        if cause not in JOURNAL_CAUSES:
            raise ValueError(f"unknown journal fault cause {cause!r}")
        self.cause = cause


JOURNAL_CAUSES = ("full", "read_only", "replaced", "damaged", "io")


class CentralRequestError(KioskError, ConnectionError):
    """A request of this kiosk to the central server failed: no answer came, the server refused
    it, or the answer is not what the API promises. (central.errors.CentralError is the server's
    own root, a different thing.)

    `status` is the HTTP status (None when no answer came); `retryable` says whether the same
    request may succeed later (network errors, 408, 429, 5xx) or needs a person (other 4xx).
    """

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False,
                 retry_after_s: float | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message  # the message without the address
        self.status = status
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class Said(str):
    """A message as English text, which logs, JSON and the screen's notices keep, that also
    remembers its catalogue id and fields: the `kiosk` command shows it in the technician's
    language (kiosk.cli.words.error_text), so each message has one source, its msgid here and
    its translations in kiosk.po. Fields may be Said themselves (a message built of parts)."""

    msgid: str
    fields: dict[str, Any]

    def __new__(cls, msgid: str, **fields: Any) -> "Said":
        said = super().__new__(cls, msgid.format(**fields) if fields else msgid)
        said.msgid = msgid
        said.fields = fields
        return said

    def __reduce__(self):  # pickled as a plain message with its fields (multiprocessing)
        return (_said, (self.msgid, self.fields))


def _said(msgid: str, fields: dict[str, Any]) -> Said:
    return Said(msgid, **fields)
