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

OK, FAULT, SILENT = "ok", "fault", "silent"
HEALTH_NAMES = {OK: N_("Healthy"), FAULT: N_("Fault"), SILENT: N_("Silent")}


@dataclass(frozen=True)
class Problem:
    msgid: str           # translated by the page
    args: dict[str, str]


# A kiosk's `delivery.system.state` as the fleet page says it ("idle" says nothing).
DELIVERY_TEXTS = {
    DeliveryStage.DOWNLOADING: N_("Downloading system update {version}: {percent}%"),
    DeliveryStage.DOWNLOADED:
        N_("System update {version} downloaded; installs in the update window"),
    DeliveryStage.WAITING: N_("System update {version} waits: {why}"),
    DeliveryStage.INSTALLED:
        N_("System update {version} installed; restarts into it in the update window"),
    DeliveryStage.FAILED: N_("System update {version} failed: {why}"),
}


@dataclass(frozen=True)
class FleetRow:
    entry: FleetEntry
    health: str                   # OK, FAULT or SILENT
    minutes_since: int | None     # since the last heartbeat arrived; None: never
    problems: tuple[Problem, ...]

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
        item = _system_delivery(self.entry.heartbeat)
        state = item.get("state")
        if state not in DELIVERY_TEXTS or state == DeliveryStage.FAILED:
            return None
        args = {"version": str(item.get("version") or "?"), "why": str(item.get("why") or "")}
        done, total = item.get("done_bytes"), item.get("total_bytes")
        args["percent"] = (str(min(100, int(done * 100 // total)))
                           if isinstance(done, int) and isinstance(total, int) and total > 0
                           else "?")
        return Problem(DELIVERY_TEXTS[state], args)

    @property
    def unsent_rows(self) -> int | None:
        beat = self.entry.heartbeat
        return None if beat is None else beat.get("unsent_rows")


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def assess(entry: FleetEntry, now: dt.datetime, silent_after_min: int) -> FleetRow:
    if entry.heartbeat_utc is None:
        return FleetRow(entry, SILENT, None, (Problem(N_("No heartbeat has arrived yet"), {}),))
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
    system = _system_delivery(beat)
    if system.get("state") == DeliveryStage.FAILED:
        problems.append(Problem(DELIVERY_TEXTS[DeliveryStage.FAILED], {
            "version": str(system.get("version") or "?"), "why": str(system.get("why") or "")}))
    if beat.get("clock_synced") is False:
        problems.append(Problem(N_("The kiosk's clock is not synchronised"), {}))
    if minutes > silent_after_min:
        health = SILENT
        problems.insert(0, Problem(N_("Silent for {minutes} minutes"), {"minutes": str(minutes)}))
    else:
        health = FAULT if problems else OK
    return FleetRow(entry, health, minutes, tuple(problems))


def _system_delivery(beat: dict | None) -> dict:
    return (((beat or {}).get("delivery") or {}).get("system")) or {}


def order(rows: list[FleetRow]) -> list[FleetRow]:
    """Silent kiosks first, then faults, then the healthy ones: what needs a visit on top."""
    rank = {SILENT: 0, FAULT: 1, OK: 2}
    return sorted(rows, key=lambda r: (rank[r.health], r.entry.kiosk.library,
                                       r.entry.kiosk.id))
