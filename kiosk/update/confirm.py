"""Keeping a trial boot, or letting it fall back (`kiosk update confirm`, run at every boot by
kiosk-update-confirm.service; one loop on the calling thread).

When kiosk.service reports ready and in service (active: `kiosk run` sent READY=1 after its
first frame, and its STATUS= says "in service"), the booted slot is marked good (`rauc status
mark-good`, which gives it its 3 boots again). When it is not ready within the deadline, and
this boot was the slot's last try (U-Boot's BOOT_x_LEFT is 0) while the other slot still has
tries, the kiosk reboots so U-Boot boots the other slot.
Otherwise a reboot would only come back here: the kiosk stays out of service (kiosk.service's
own restarts and its out-of-service screen) with no reboot loop, and the slot is still marked
good if the kiosk gets ready later.

Ready but out of service is not kept: a new version that draws only its out-of-service screen
(it refuses the kiosk.toml the old one ran with, say) would otherwise strand the kiosk there
until a technician came; the old slot served patrons with the same card.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from kiosk import sd_notify
from kiosk.commands import Runner, parse_properties
from kiosk.update import bootenv, rauc
from kiosk.update.rauc import RaucError

log = logging.getLogger(__name__)

SERVICE = "kiosk.service"
DEFAULT_DEADLINE_S = 300.0  # three of kiosk.service's 90 s start attempts, and some
POLL_S = 5.0
REBOOT_ARGV = ("systemctl", "reboot")


class Outcome(StrEnum):
    MARKED_GOOD = "marked good"
    REBOOTED = "rebooted to fall back"
    FAILED = "could not mark good"


@dataclass(frozen=True)
class Tries:
    """What U-Boot's counter says when the deadline passed."""
    slot: str | None
    left: int | None        # the booted slot's BOOT_x_LEFT
    other: str | None
    other_left: int | None

    @property
    def fall_back(self) -> bool:
        """Reboot only when it helps: this was the last try here, and U-Boot has another
        slot to boot. With both at 0 U-Boot's script resets both and comes back here."""
        return self.left == 0 and self.other is not None and (self.other_left or 0) > 0


def service_state(runner: Runner) -> str:
    """kiosk.service's STATUS= once it is active (READY=1 sent), else its ActiveState."""
    shown = runner(["systemctl", "show", SERVICE, "-p", "ActiveState", "-p", "StatusText"])
    if not shown.ok:
        return "unknown (systemctl show failed)"
    properties = parse_properties(shown.stdout)
    active = properties.get("ActiveState", "unknown")
    return properties.get("StatusText", "") if active == "active" else active


def kiosk_ready(runner: Runner) -> bool:
    """Ready and in service, not only showing why it is not."""
    return service_state(runner) == sd_notify.IN_SERVICE


def read_tries(runner: Runner) -> Tries:
    try:
        status = rauc.read_status(runner)
    except RaucError as e:
        log.error("cannot tell which slot this is: %s", e)
        return Tries(None, None, None, None)
    other = status.other(status.booted)
    other_name = other.bootname if other else None
    return Tries(status.booted, bootenv.tries_left(runner, status.booted) if status.booted
                 else None, other_name,
                 bootenv.tries_left(runner, other_name) if other_name else None)


def confirm(runner: Runner, deadline_s: float = DEFAULT_DEADLINE_S, *,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> Outcome:
    started = clock()
    log.info("waiting up to %g s for %s to be ready before keeping this slot", deadline_s, SERVICE)
    while not kiosk_ready(runner):
        if clock() - started >= deadline_s:
            tries = read_tries(runner)
            state = service_state(runner)
            if tries.fall_back:
                log.error("%s was not in service within %g s (it is %s) and this was slot %s's "
                          "last try: rebooting so U-Boot falls back to slot %s", SERVICE,
                          deadline_s, state, tries.slot, tries.other)
                runner(list(REBOOT_ARGV))
                return Outcome.REBOOTED
            log.error("%s was not in service within %g s (it is %s); slot %s has %s tries left, "
                      "slot %s has %s: no reboot (it would come back here); the kiosk stays out "
                      "of service. See why: journalctl -u kiosk -b. This slot is still kept "
                      "once the kiosk is in service", SERVICE, deadline_s, state, tries.slot or "?",
                      _count(tries.left), tries.other or "?", _count(tries.other_left))
            return _wait_then_mark(runner, sleep)
        sleep(POLL_S)
    return _mark(runner)


def _wait_then_mark(runner: Runner, sleep: Callable[[float], None]) -> Outcome:
    while not kiosk_ready(runner):
        sleep(POLL_S)
    return _mark(runner)


def _mark(runner: Runner) -> Outcome:
    try:
        rauc.mark_good(runner)
    except RaucError as e:
        log.error("%s", e)
        return Outcome.FAILED
    log.info("%s is in service: this slot is marked good", SERVICE)
    return Outcome.MARKED_GOOD


def _count(n: int | None) -> str:
    return "an unknown number of" if n is None else str(n)
