"""What the admin screen says above its list and beside "Upload now": the rows' order (what is
wrong first), the count of faults a technician reads without scrolling, and what came of the
last upload in plain words. Pure: `tr(msgid, **args)` is the screen's translator bound to the
session's language; run on the UI thread."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from kiosk.i18n import N_

T = TypeVar("T")
Tr = Callable[..., str]  # tr(msgid, **args) -> the text in the session's language

FAULT, ATTENTION, FINE = 0, 1, 2  # a row's rank: faults first, then what to look at


def rank(ok: bool | None, warning: bool = False) -> int:
    """A check's or a device's rank from its verdict: a fault, working with advice to follow,
    or anything else (working, not set, cannot be known)."""
    if ok is False:
        return FAULT
    return ATTENTION if ok and warning else FINE


def faults_first(rows: Iterable[tuple[int, T]]) -> list[T]:
    """The rows by rank; rows of one rank keep their order (a stable sort)."""
    return [row for _rank, row in sorted(rows, key=lambda pair: pair[0])]


def headline(tr: Tr, ranks: list[int]) -> str:
    """"2 项故障，1 项需注意" / "2 faults, 1 to look at"."""
    faults, attention = ranks.count(FAULT), ranks.count(ATTENTION)
    if faults:
        said = tr(N_("1 fault") if faults == 1 else N_("{faults} faults"), faults=faults)
        if attention:
            return tr(N_("{faults_said}, {attention} to look at"), faults_said=said,
                      attention=attention)
        return said
    if attention:
        return tr(N_("No faults, {attention} to look at"), attention=attention)
    return tr(N_("No faults: everything works"))


class UploadResult(Protocol):
    """kiosk.core.events.UploadFinished, as far as the words need it."""
    ok: bool
    rows: int
    counts: int
    left: int
    cause: str
    status: int
    at: str


# Why an upload failed, by kiosk.upload.outcome's cause: words for staff, not the HTTP error
# (the central server's row keeps that for the technician).
UPLOAD_CAUSES = {
    "busy": N_("another upload is running; try again in a minute"),
    "not_configured": N_("no central server is set ([central] url)"),
    "no_token": N_("this kiosk has no token for the central server"),
    "unreachable": N_("the central server cannot be reached; check the network"),
    "token_refused": N_("the central server does not accept this kiosk's token"),
    "server_error": N_("the central server has a problem (HTTP {status}); the next timed run "
                       "tries again"),
    "rejected": N_("the central server refused the counts (HTTP {status})"),
    "answer": N_("the answer is not the central server's; check [central] url"),
    "journal": N_("the journal cannot be read"),
    "other": N_("an error in the kiosk; see its log"),
}


def upload_line(tr: Tr, uploading: bool, result: UploadResult | None) -> str:
    """What "Upload now" did, and when: running, sent (how many rows as how many counts, and
    what is left), nothing to send, or failed and why; "" before staff pressed it."""
    if uploading:
        return tr(N_("Uploading to the central server…"))
    if result is None:
        return ""
    said = _outcome(tr, result)
    return f"{result.at} {said}" if result.at else said  # "14:05 上传失败：…" in both


def _outcome(tr: Tr, result: UploadResult) -> str:
    if not result.ok:
        why = UPLOAD_CAUSES.get(result.cause, UPLOAD_CAUSES["other"])
        return tr(N_("Upload failed: {why}"), why=tr(why, status=result.status))
    if not result.rows:
        return tr(N_("Nothing to send: every row was already uploaded"))
    one = result.rows == 1  # one row is one count
    if result.left:
        return tr(N_("Sent 1 row as 1 count; {left} left for the next run") if one else
                  N_("Sent {rows} rows as {counts} counts; {left} left for the next run"),
                  rows=result.rows, counts=result.counts, left=result.left)
    return tr(N_("Sent 1 row as 1 count; everything is uploaded") if one else
              N_("Sent {rows} rows as {counts} counts; everything is uploaded"),
              rows=result.rows, counts=result.counts)
