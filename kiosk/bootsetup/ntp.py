"""`[time] ntp_servers` for systemd-timesyncd: a drop-in in /run, written at every boot.

Library networks often block public NTP servers, and a Pi has no battery clock: without a
server it can reach, every journal row is marked "clock not synchronised". With no servers
configured our drop-in is removed and timesyncd uses Debian's defaults.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.bootsetup import files
from kiosk.bootsetup.outcome import Outcome
from kiosk.commands import Runner
from kiosk.config import HOST_LIST

TIMESYNCD = "systemd-timesyncd.service"


def render(servers: tuple[str, ...]) -> str:
    if not HOST_LIST.match(",".join(servers)):  # kiosk.config checked them; never a new line
        raise ValueError("NTP server names must be host names or addresses")
    return ("# Written by 'kiosk boot-setup' at every boot from [time] ntp_servers.\n"
            f"[Time]\nNTP={' '.join(servers)}\n")


def apply(servers: tuple[str, ...], dropin: Path, systemd_running: bool, runner: Runner,
          outcome: Outcome) -> None:
    outcome.facts["ntp_servers"] = ", ".join(servers) or "the system's defaults"
    try:
        if servers:
            files.make_folders(dropin.parent)
            changed = files.write_if_changed(dropin, render(servers).encode(), mode=0o644)
            what = f"time servers: {', '.join(servers)} ({dropin})"
        else:
            changed = files.remove(dropin)
            what = f"time servers: the system's defaults ({dropin} removed)"
    except OSError as e:
        outcome.warn(f"cannot write {dropin}: {e.strerror}; timesyncd keeps its servers")
        return
    if not changed:
        return
    outcome.changed(what)
    if not systemd_running:
        outcome.note(f"systemd is not running here: {TIMESYNCD} not restarted")
        return
    # try-restart: a timesyncd that is not running (masked, or chrony instead) stays so.
    result = runner(["systemctl", "try-restart", TIMESYNCD])
    if not result.ok:
        outcome.warn(f"cannot restart {TIMESYNCD}: {result.why}")
