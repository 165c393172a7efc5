"""What one upload from the admin screen came to, for the core (`UploadFinished`): the rows and
counts sent, what is left, and why it failed as a cause staff can be told in plain words
(kiosk.ui.screens.admin_summary has the words). Run on the app's upload thread."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kiosk.config import Config
from kiosk.core import events as ev
from kiosk.errors import CentralRequestError

BUSY, NOT_CONFIGURED, NO_TOKEN = "busy", "not_configured", "no_token"
UNREACHABLE, TOKEN_REFUSED, SERVER_ERROR = "unreachable", "token_refused", "server_error"
REJECTED, ANSWER, JOURNAL, OTHER = "rejected", "answer", "journal", "other"
CAUSES = (BUSY, NOT_CONFIGURED, NO_TOKEN, UNREACHABLE, TOKEN_REFUSED, SERVER_ERROR, REJECTED,
          ANSWER, JOURNAL, OTHER)


def cause_of(error: CentralRequestError) -> str:
    """Why a request to the central server failed, from its HTTP status: no answer at all,
    the token refused, the server's own trouble (worth the timer's next try), the request
    refused, or an answer that is not the central server's."""
    status = error.status
    if status is None:
        return UNREACHABLE if error.retryable else ANSWER
    if status in (401, 403):
        return TOKEN_REFUSED
    if status >= 500 or status in (408, 429):
        return SERVER_ERROR
    return REJECTED if status >= 400 else ANSWER


def run_now(config: Config) -> ev.UploadFinished:
    """One upload, as the timer's `kiosk upload` makes it, and when it ended; never raises for
    what the network, the server or the journal did (the report says), but a bug does."""
    return replace(_run(config), at=datetime.now().strftime("%H:%M"))


def _run(config: Config) -> ev.UploadFinished:
    from kiosk.upload.run import upload  # requests, loaded only when staff ask

    if not config.central.url:
        return ev.UploadFinished(False, "no [central] url", cause=NOT_CONFIGURED)
    report = upload(config)
    if report.busy:
        return ev.UploadFinished(False, "another upload is running", cause=BUSY)
    rows = sum(batch.rows for batch in report.batches)
    counts = sum(batch.counts for batch in report.batches)
    if report.error:
        return ev.UploadFinished(False, report.error, rows, counts, report.unsent_rows,
                                 report.cause or OTHER, report.status or 0)
    return ev.UploadFinished(True, "", rows, counts, report.unsent_rows)
