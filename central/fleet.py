"""Each kiosk's health as the fleet page shows it, from its last heartbeat. Pure.

Silence is judged by when the heartbeat arrived on the server's clock, not by the time the
kiosk wrote in it: a Pi without network time may think it is 1970.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from central.i18n import N_
from central.schemas import DeliveryStage
from central.storage import FleetEntry
from common.batch_names import is_older_batch

OK, FAULT, SILENT = "ok", "fault", "silent"
HEALTH_NAMES = {OK: N_("Healthy"), FAULT: N_("Fault"), SILENT: N_("Silent")}


@dataclass(frozen=True)
class Problem:
    msgid: str           # translated by the page
    args: dict[str, str]


# What the fleet page says of a kiosk's `delivery.<kind>.state` ("idle" says nothing): a
# system update (issue 14) and an e-book batch (issue 17). A batch applied is the catalogue
# version itself, so "installed" says nothing for it either.
SYSTEM_TEXTS = {
    DeliveryStage.DOWNLOADING: N_("Downloading system update {version}: {percent}%"),
    DeliveryStage.DOWNLOADED:
        N_("System update {version} downloaded; installs in the update window"),
    DeliveryStage.WAITING: N_("System update {version} waits: {why}"),
    DeliveryStage.INSTALLED:
        N_("System update {version} installed; restarts into it in the update window"),
    DeliveryStage.FAILED: N_("System update {version} failed: {why}"),
}
CATALOGUE_TEXTS = {
    DeliveryStage.DOWNLOADING: N_("Downloading e-book batch {version}: {percent}%"),
    DeliveryStage.DOWNLOADED:
        N_("E-book batch {version} downloaded; applied when no reader is using the kiosk"),
    DeliveryStage.WAITING: N_("E-book batch {version} waits: {why}"),
    DeliveryStage.FAILED: N_("E-book batch {version} failed: {why}"),
}
DELIVERY_TEXTS = {"system": SYSTEM_TEXTS, "catalogue": CATALOGUE_TEXTS}


@dataclass(frozen=True)
class FleetRow:
    entry: FleetEntry
    health: str                   # OK, FAULT or SILENT
    minutes_since: int | None     # since the last heartbeat arrived; None: never
    problems: tuple[Problem, ...]
    newest_batch: str | None = None  # the e-book batch published for its library, if any

    @property
    def system(self) -> dict[str, str] | None:
        """The image's root version and the booted slot; None for a `setup.sh install`
        kiosk or one older than issue 14."""
        beat = self.entry.heartbeat or {}
        if not beat.get("system_version") and not beat.get("slot"):
            return None
        return {"version": str(beat.get("system_version") or "?"),
                "slot": str(beat.get("slot") or "?")}

    @property
    def pending_system_update(self) -> Problem | None:
        """A system update the kiosk is fetching or about to install, as a line for the
        page; None when nothing is under way (a failed one is among the problems)."""
        return _pending(self.entry.heartbeat, "system")

    @property
    def pending_batch(self) -> Problem | None:
        """The same for an e-book batch: downloading (with its percentage), downloaded or
        waiting, and why."""
        return _pending(self.entry.heartbeat, "catalogue")

    @property
    def catalogue(self) -> str | None:
        """The e-book catalogue version the kiosk last said it shows (`2026-12-1`: the
        batch and the how-many-th time it was applied); None: none, or never said."""
        beat = self.entry.heartbeat or {}
        return str(beat["catalogue"]) if beat.get("catalogue") else None

    @property
    def behind(self) -> bool:
        """The kiosk shows an older catalogue than the newest batch for its library (or none
        at all). `2026-12-1` is that batch applied, so not behind `2026-12`."""
        if self.newest_batch is None:
            return False
        return self.catalogue is None or is_older_batch(self.catalogue, self.newest_batch)

    @property
    def unsent_rows(self) -> int | None:
        beat = self.entry.heartbeat
        return None if beat is None else beat.get("unsent_rows")


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def assess(entry: FleetEntry, now: dt.datetime, silent_after_min: int,
           newest_batch: str | None = None) -> FleetRow:
    """`newest_batch`: the e-book batch published for the kiosk's library, if one is."""
    if entry.heartbeat_utc is None:
        return FleetRow(entry, SILENT, None, (Problem(N_("No heartbeat has arrived yet"), {}),),
                        newest_batch)
    minutes = max(0, int((now - parse_utc(entry.heartbeat_utc)).total_seconds() // 60))
    beat = entry.heartbeat or {}
    problems = []
    for name, device in sorted((beat.get("devices") or {}).items()):
        if device.get("state") == "fault":
            problems.append(Problem(N_("Device {name}: {detail}"),
                                    {"name": name, "detail": device.get("detail") or ""}))
    if beat.get("ils") == "fault":
        problems.append(Problem(N_("The library system cannot be reached"), {}))
    if beat.get("last_error"):
        problems.append(Problem(N_("Last upload error: {error}"),
                                {"error": str(beat["last_error"])}))
    if beat.get("update") == "fell_back":
        problems.append(Problem(N_("The last update failed: the kiosk fell back to slot {slot}"),
                                {"slot": str(beat.get("slot") or "?")}))
    for kind, texts in DELIVERY_TEXTS.items():
        item = _delivery(beat, kind)
        if item.get("state") == DeliveryStage.FAILED:
            problems.append(Problem(texts[DeliveryStage.FAILED], _version_why(item)))
    if beat.get("clock_synced") is False:
        problems.append(Problem(N_("The kiosk's clock is not synchronised"), {}))
    if minutes > silent_after_min:
        health = SILENT
        problems.insert(0, Problem(N_("Silent for {minutes} minutes"), {"minutes": str(minutes)}))
    else:
        health = FAULT if problems else OK
    return FleetRow(entry, health, minutes, tuple(problems), newest_batch)


def _delivery(beat: dict | None, kind: str) -> dict:
    return (((beat or {}).get("delivery") or {}).get(kind)) or {}


def _version_why(item: dict) -> dict[str, str]:
    return {"version": str(item.get("version") or "?"), "why": str(item.get("why") or "")}


def _pending(beat: dict | None, kind: str) -> Problem | None:
    """A delivery of `kind` under way as a line for the page; a failed one is a problem."""
    item = _delivery(beat, kind)
    texts = DELIVERY_TEXTS[kind]
    state = item.get("state")
    if state not in texts or state == DeliveryStage.FAILED:
        return None
    args = _version_why(item)
    done, total = item.get("done_bytes"), item.get("total_bytes")
    args["percent"] = (str(min(100, int(done * 100 // total)))
                       if isinstance(done, int) and isinstance(total, int) and total > 0
                       else "?")
    return Problem(texts[state], args)


def order(rows: list[FleetRow]) -> list[FleetRow]:
    """Silent kiosks first, then faults, then the healthy ones: what needs a visit on top."""
    rank = {SILENT: 0, FAULT: 1, OK: 2}
    return sorted(rows, key=lambda r: (rank[r.health], r.entry.kiosk.library,
                                       r.entry.kiosk.id))
