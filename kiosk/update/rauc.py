"""`rauc` behind the Runner: its status (`rauc status --detailed --output-format=json`) as
frozen dataclasses, installing a bundle and marking the booted slot good.

The JSON is RAUC 1.8's: {"compatible", "booted" (the bootname), "boot_primary", "slots": [{name:
{"bootname", "state", "boot_status": "good"|"bad", "slot_status": {"bundle": {"version"},
"installed": {"timestamp"}, "status"}}}]}. Unknown or missing fields read as None.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.commands import CommandResult, Runner
from kiosk.errors import KioskError

STATUS_ARGV = ("rauc", "status", "--detailed", "--output-format=json")
MARK_GOOD_ARGV = ("rauc", "status", "mark-good", "booted")


class RaucError(KioskError):
    """rauc could not answer, or answered what cannot be read."""


@dataclass(frozen=True)
class Slot:
    name: str                      # rootfs.0
    bootname: str | None           # A
    device: str | None
    state: str | None              # booted, active, inactive
    boot_good: bool | None         # U-Boot's counter: True good, False bad, None no bootname
    bundle_version: str | None     # of the bundle last installed into it; None: never
    installed_at: datetime | None  # when that bundle was installed
    install_status: str | None     # "ok", or RAUC's words for a failed install

    @property
    def booted(self) -> bool:
        return self.state == "booted"


@dataclass(frozen=True)
class RaucStatus:
    compatible: str | None
    booted: str | None        # the booted slot's bootname
    primary: str | None       # the slot U-Boot tries first (its name)
    slots: tuple[Slot, ...]   # sorted by name

    def slot(self, bootname: str | None) -> Slot | None:
        return next((s for s in self.slots if bootname and s.bootname == bootname), None)

    def other(self, bootname: str | None) -> Slot | None:
        """The one other root slot: the fallback of the booted one."""
        others = [s for s in self.slots if s.bootname and s.bootname != bootname]
        return others[0] if len(others) == 1 else None


def parse_status(text: str) -> RaucStatus:
    try:
        data = json.loads(text)
        return RaucStatus(_text(data.get("compatible")), _text(data.get("booted")),
                          _text(data.get("boot_primary")),
                          tuple(sorted((_slot(name, fields)
                                        for entry in data.get("slots") or []
                                        for name, fields in entry.items()),
                                       key=lambda s: s.name)))
    except (ValueError, AttributeError, TypeError) as e:
        raise RaucError(f"rauc status said what cannot be read ({e}): {text[:200]!r}") from e


def _slot(name: str, fields: dict) -> Slot:
    status = fields.get("slot_status") or {}
    bundle = status.get("bundle") or {}
    installed = status.get("installed") or {}
    boot = fields.get("boot_status")
    return Slot(name, _text(fields.get("bootname")), _text(fields.get("device")),
                _text(fields.get("state")), None if boot is None else boot == "good",
                _text(bundle.get("version")), _time(installed.get("timestamp")),
                _text(status.get("status")))


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _time(value: object) -> datetime | None:
    """RAUC writes "2026-12-06T17:01:02Z"."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def read_status(runner: Runner) -> RaucStatus:
    result = runner(list(STATUS_ARGV))
    if not result.ok:
        raise RaucError(f"rauc status failed: {result.why}")
    return parse_status(result.stdout)


def mark_good(runner: Runner) -> None:
    result = runner(list(MARK_GOOD_ARGV))
    if not result.ok:
        raise RaucError(f"rauc could not mark the booted slot good: {result.why}")


def bundle_version(path: Path, runner: Runner) -> tuple[str | None, str | None]:
    """(the bundle's version, None), or (None, why rauc refused it): `rauc info` also checks
    the signature against the kiosk's keyring."""
    result = runner(["rauc", "info", "--output-format=json", str(path)])
    if not result.ok:
        return None, result.why
    try:
        version = json.loads(result.stdout).get("version")
    except (ValueError, AttributeError):
        return None, f"rauc info said what cannot be read: {result.stdout[:200]!r}"
    return (str(version), None) if version else (None, "the bundle's manifest has no version")


def install_argv(bundle: str) -> Sequence[str]:
    return ("rauc", "install", bundle)


def install_failure(result: CommandResult) -> str:
    """Why `rauc install` failed: RAUC's own reason (its `LastError:` line, e.g. "Pre-install
    handler error: ...") rather than its closing "Installing `...` failed" line."""
    for line in reversed((result.stdout + "\n" + result.stderr).splitlines()):
        if line.startswith("LastError:"):
            return line.removeprefix("LastError:").strip()
    return result.why
