"""What each event and outcome a kiosk uploads counts as in the figures: a kiosk session, a
loan, a return, a renewal, an e-book use, a failure, or none of these. Pure tables, read by
central/figures.py (its SQL is built from them) and central/labels.py's tests.

A lending counts once, online or offline. For each transaction the kiosk's journal holds an
`intent` row (its outcome: the operation) and then the transaction's own rows:
- online: `ok`, or the reason it failed, or `unknown` when the ILS's reply was lost. An
  `unknown` gets a second row later: `reconciled` (the ILS shows it done),
  `reconciled_not_done`, or `checked_by_staff` (staff looked; the row does not say what they
  found).
- offline (the ILS away, `[circulation] offline = true`): `offline` when the kiosk's offline
  store took it, then, once the ILS is back and the store replays it, a second row of the same
  event: `replayed` (the ILS took it) or `replay_refused`.
So a transaction counts by the row that says the ILS has it: `ok`, `reconciled` or `replayed`.
`offline` and `unknown` wait for their second row and never count, so no lending counts twice.
A replayed transaction counts on the day and hour of its replay row.

Kiosks from before that contract upload the replay as event `offline_replay` (outcome `sent`
or `refused`), which does not say loan or return: counted as neither, and not as a failure;
the figures list them apart (`Figures.old_replays`).

Failures are listed per event; an outcome not listed (a newer kiosk's) is not one. Receipts
shown or printed, sessions however they ended, searches, staff actions, intents and service
rows never fail.
"""

from __future__ import annotations

from collections.abc import Mapping

from common.upload_contract import LEGACY_REPLAY_EVENT, REPLAY_REFUSED, REPLAYED

# Outcomes of a transaction the ILS has: at once, found done after a lost reply, or replayed
# from the offline store.
DONE = frozenset({"ok", "reconciled", REPLAYED})
# Outcomes of a transaction that are no failure but not a count either: waiting for a second
# row (above), or settled by staff without saying how.
PENDING = frozenset({"offline", "unknown", "checked_by_staff"})
OK = frozenset({"ok"})
ANY = None  # every outcome

# A column of the figures: the event it counts and which of its outcomes (ANY: all).
COUNTED: Mapping[str, tuple[str, frozenset[str] | None]] = {
    "sessions": ("session", ANY),
    "loans": ("checkout", DONE),
    "returns": ("checkin", DONE),
    "renewals": ("renew", DONE),
    "ebook_views": ("ebook_view", OK),
    "qr_scans": ("ebook_qr", OK),
    "downloads": ("ebook_download", OK),
}
TRANSACTIONS = ("checkout", "checkin", "renew")  # REPLAYED_EVENTS, in report order

# Why a transaction did not happen, as the kiosk journals it (kiosk.core.outcomes.Reason, the
# reconciler's and the replay's verdicts).
_NOT_DONE = frozenset({
    "blocked", "on_hold", "not_for_loan", "unknown_item", "on_loan", "own_loan",
    "incomplete_set", "unreadable_tag", "security_failed", "ils_refused", "ils_error",
    "ils_unavailable", "offline_limit", "offline_failed", "offline_not_lendable",
    "reconciled_not_done", REPLAY_REFUSED})

# Per event, the outcomes that are failures (ANY: every outcome is one).
FAILURES: Mapping[str, frozenset[str] | None] = {
    **{event: _NOT_DONE for event in TRANSACTIONS},
    "receipt": frozenset({"print_failed"}),
    "ebook_qr": frozenset({"server_unavailable", "no_download_address"}),
    # in_app_browser: a good link opened in WeChat's or QQ's browser, which cannot save the
    # file (the patron was sent to a real browser): listed so staff see how often it happens.
    "ebook_download": frozenset({"expired", "bad signature", "other kiosk", "malformed",
                                 "not found", "in_app_browser"}),
    "error": ANY,
}
OLD_REPLAY = LEGACY_REPLAY_EVENT  # older kiosks' replays: neither loan nor return, not a failure


def is_failure(event: str, outcome: str) -> bool:
    failing = FAILURES.get(event, frozenset())
    return failing is ANY or outcome in failing


def matching(table: Mapping[str, frozenset[str] | None]) -> tuple[str, list[str]]:
    """SQL over `counts` for rows whose event is a key of `table` and whose outcome is among
    its outcomes (all when ANY), with its parameters."""
    clauses, params = [], []
    for event, outcomes in table.items():
        if outcomes is ANY:
            clauses.append("event = ?")
            params.append(event)
        else:
            clauses.append(f"(event = ? AND outcome IN ({', '.join('?' * len(outcomes))}))")
            params += [event, *sorted(outcomes)]
    return "(" + " OR ".join(clauses) + ")", params
