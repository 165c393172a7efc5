"""Errors of the e-book content: a catalogue that cannot be read, a batch that is refused.

A refusal carries a `BatchProblem` beside its message: the message names the file or title for
the log and the command line, the problem lets a screen (the admin screen, the fleet page) word
the refusal in its own language and say what to do.
"""

from __future__ import annotations

from enum import StrEnum

from common.errors import KioskError


class BatchProblem(StrEnum):
    NOT_A_BATCH = "not_a_batch"  # not a readable tar or folder, or its manifest cannot be read
    SIGNATURE = "signature"  # not signed with this kiosk's key, or changed after signing
    KEY = "key"  # this kiosk's own public key is missing or unreadable
    OLDER = "older"  # older than the batch the catalogue holds (allow_older, or roll back)
    ALREADY_APPLIED = "already_applied"
    DOES_NOT_FIT = "does_not_fit"  # the manifest's adds/updates/withdrawals vs the catalogue
    DAMAGED = "damaged"  # a file missing, or its size or sha256 not the manifest's
    NO_SPACE = "no_space"  # the data partition cannot hold the new version
    BUSY = "busy"  # another apply or rollback is running


class ContentError(KioskError):
    """Something in the e-book content cannot be used; `problem` says which kind, when it is
    one of a batch's refusals."""

    def __init__(self, message: str, problem: BatchProblem | None = None) -> None:
        super().__init__(message)
        self.problem = problem


class BatchError(ContentError, ValueError):
    """A batch is refused; the message says why, for staff."""

    def __init__(self, message: str, problem: BatchProblem = BatchProblem.NOT_A_BATCH) -> None:
        super().__init__(message, problem)
