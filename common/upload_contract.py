"""The counts contract between a kiosk's uploader and the central server (docs/upload.md), in
the one place both read it: its version, its bounds, and which counts may stand for more than
one journal row each. Pure constants and functions, no imports of either side.
"""

from __future__ import annotations

# Contract 2 (issue 18): a replayed offline transaction is counted under its own event with one
# of REPLAY_OUTCOMES, and the server refuses batches that are not believable. Contract 1
# kiosks (an `offline_replay` event) are still accepted as they are.
VERSION = 2
MAX_COUNTS = 5000  # count rows in one batch; over it the server answers 413
# How many refused download links one journal row may stand for. The kiosk journals them at
# most a row a minute per reason; more than this in a minute is not a kiosk's traffic.
MAX_ROW_WEIGHT = 100_000
REPLAYED = "replayed"  # the ILS took the transaction made offline
REPLAY_REFUSED = "replay_refused"  # the ILS refused it: staff settle it by hand
REPLAY_OUTCOMES = {"sent": REPLAYED, "refused": REPLAY_REFUSED}  # the offline store's words
REPLAYED_EVENTS = frozenset({"checkout", "checkin", "renew"})
LEGACY_REPLAY_EVENT = "offline_replay"  # contract 1's event, and the fallback for a stray kind


def counted_refusals(event: str, outcome: str) -> bool:
    """Whether a count's rows may each stand for several events (1 to MAX_ROW_WEIGHT): refused
    download links, journaled counted. Every other count is one event per journal row."""
    return event == "ebook_download" and outcome != "ok"
