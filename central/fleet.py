"""Each kiosk's health as the fleet page shows it, from its last heartbeat. Pure.

Silence is judged by when the heartbeat arrived on the server's clock, not by the time the
kiosk wrote in it: a Pi without network time may think it is 1970. That clock is a warning,
not a fault: the kiosk lends and returns as before, only the times it records may be off.
Faults are what needs a technician. Times are shown in the library's time zone
(`[central] time_zone`), ages and spans in words ("刚刚", "1 小时 5 分钟前").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from central.i18n import N_
from central.schemas import DeliveryStage
from central.storage import FleetEntry
from common.batch_names import is_older_batch

OK, WARNING, FAULT, SILENT = "ok", "warning", "fault", "silent"
HEALTH_NAMES = {OK: N_("Healthy"), WARNING: N_("Warning"), FAULT: N_("Fault"),
                SILENT: N_("Silent")}
# A kiosk whose clock is off by this much or more (and does not say it is synchronised) is
# warned of: far above the seconds a heartbeat spends on the network.
CLOCK_OFF_S = 300


@dataclass(frozen=True)
class Problem:
    """A line of the page: a message id with its arguments, which may be lines themselves
    (a span of time in words); `level` is FAULT or WARNING."""
    msgid: str
    args: Mapping[str, str | Problem]
    level: str = FAULT

    def say(self, t: Callable[..., str]) -> str:
        """The line in the words of `t(msgid, **args)`, the page's translator."""
        return t(self.msgid, **{k: v.say(t) if isinstance(v, Problem) else v
                                for k, v in self.args.items()})


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
    health: str                   # OK, WARNING, FAULT or SILENT
    seconds_since: int | None     # since the last heartbeat arrived; None: never
    problems: tuple[Problem, ...]
    newest_batch: str | None = None  # the e-book batch published for its library, if any
    zone: dt.tzinfo = dt.timezone.utc  # the library's, for the times shown

    @property
    def minutes_since(self) -> int | None:
        return None if self.seconds_since is None else self.seconds_since // 60

    @property
    def age(self) -> Problem:
        """How long ago the last heartbeat arrived, in words."""
        return ago(self.seconds_since)

    @property
    def heartbeat_local(self) -> str | None:
        return local_time(self.entry.heartbeat_utc, self.zone)

    @property
    def last_batch_local(self) -> str | None:
        return local_time(self.entry.last_batch_utc, self.zone)

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


def local_time(utc_text: str | None, zone: dt.tzinfo, *, seconds: bool = False) -> str | None:
    """`2026-11-24T06:00:00.000Z` in Asia/Shanghai: `2026-11-24 14:00` (`14:00:00` with
    seconds); None stays None."""
    if not utc_text:
        return None
    shown = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return parse_utc(utc_text).astimezone(zone).strftime(shown)


def zone_label(zone: ZoneInfo, now: dt.datetime) -> str:
    """`Asia/Shanghai (UTC+08:00)`: the zone's name and its offset today, for the page."""
    offset = now.astimezone(zone).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{zone.key} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


def span(seconds: int) -> Problem:
    """A length of time in words, to the minute: `5 min`, `1 h`, `1 h 5 min`, `3 d 2 h`."""
    minutes = max(0, seconds) // 60
    hours, days = minutes // 60, minutes // 1440
    if minutes < 60:
        return Problem(N_("{minutes} min"), {"minutes": str(minutes)})
    if days < 1 and minutes % 60 == 0:
        return Problem(N_("{hours} h"), {"hours": str(hours)})
    if days < 1:
        return Problem(N_("{hours} h {minutes} min"),
                       {"hours": str(hours), "minutes": str(minutes % 60)})
    if days < 7:
        return Problem(N_("{days} d {hours} h"), {"days": str(days), "hours": str(hours % 24)})
    return Problem(N_("{days} days"), {"days": f"{days:,}"})


def ago(seconds: int | None) -> Problem:
    """`just now` under a minute, else `1 h 5 min ago`; `never` for None."""
    if seconds is None:
        return Problem(N_("never"), {})
    if seconds < 60:
        return Problem(N_("just now"), {})
    return Problem(N_("{span} ago"), {"span": span(seconds)})


def clock_problems(beat: dict, arrived: dt.datetime) -> list[Problem]:
    """Warnings about the kiosk's clock: not synchronised by its own word, or, unless it says it
    is, CLOCK_OFF_S or more off the server's (the time it wrote in the heartbeat against the
    time the heartbeat arrived). A kiosk that says it is synchronised is believed."""
    synced = beat.get("clock_synced")
    if synced is True:
        return []
    off = _clock_offset(beat, arrived)
    if off is not None and abs(off) >= CLOCK_OFF_S:
        msgid = (N_("The kiosk's clock is {span} ahead of the server's") if off > 0
                 else N_("The kiosk's clock is {span} behind the server's"))
        shown = [Problem(msgid, {"span": span(abs(off))}, WARNING)]
    else:
        shown = []
    if synced is False:
        shown.insert(0, Problem(N_("The kiosk's clock is not synchronised"), {}, WARNING))
    return shown


def _clock_offset(beat: dict, arrived: dt.datetime) -> int | None:
    """Seconds the kiosk's clock is ahead (negative: behind); None if it wrote no time."""
    try:
        written = parse_utc(str(beat["time_utc"]))
    except (KeyError, ValueError):
        return None
    if written.tzinfo is None:
        return None
    return int((written - arrived).total_seconds())


def assess(entry: FleetEntry, now: dt.datetime, silent_after_min: int,
           newest_batch: str | None = None, zone: dt.tzinfo = dt.timezone.utc) -> FleetRow:
    """`newest_batch`: the e-book batch published for the kiosk's library, if one is; `zone`:
    the library's time zone, for the times the page shows."""
    if entry.heartbeat_utc is None:
        return FleetRow(entry, SILENT, None, (Problem(N_("No heartbeat has arrived yet"), {}),),
                        newest_batch, zone)
    arrived = parse_utc(entry.heartbeat_utc)
    seconds = max(0, int((now - arrived).total_seconds()))
    minutes = seconds // 60
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
    problems.extend(clock_problems(beat, arrived))
    if minutes > silent_after_min:
        health = SILENT
        problems.insert(0, Problem(N_("Silent for {span}"), {"span": span(seconds)}))
    elif any(p.level == FAULT for p in problems):
        health = FAULT
    else:
        health = WARNING if problems else OK
    return FleetRow(entry, health, seconds, tuple(problems), newest_batch, zone)


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
    """Silent kiosks first, then faults, warnings, the healthy ones: what needs a visit on
    top."""
    rank = {SILENT: 0, FAULT: 1, WARNING: 2, OK: 3}
    return sorted(rows, key=lambda r: (rank[r.health], r.entry.kiosk.library,
                                       r.entry.kiosk.id))
