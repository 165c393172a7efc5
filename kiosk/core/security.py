"""A book's alarm: once the ILS (or the offline store) said yes, every part's tag is disarmed
(checkout) or armed (checkin) through the pad and read back; only then is the transaction
finished, or it is finished as `security_failed` for staff to look at.
Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

import logging

from kiosk.core import events as ev
from kiosk.core.circulation_state import CirculationState, Job
from kiosk.core.flow_port import Effects, Handlers
from kiosk.core.outcomes import Outcome, Reason, Transaction

log = logging.getLogger(__name__)


class Security:
    """Changes the security bit of a job's tags and finishes the job when all read back."""

    def __init__(self, state: CirculationState) -> None:
        self.state = state

    def handlers(self) -> Handlers:
        return {ev.SecurityDone: self._on_SecurityDone}

    def secure(self, job: Job, change: bool, effects: Effects) -> None:
        """Disarm (checkout) or arm (checkin) every part, then finish once all read back."""
        if not change or not job.uids:
            self.state.finish(job, Outcome.OFFLINE if job.offline else Outcome.OK, effects)
            return
        job.pending = set(job.uids)
        for uid in job.uids:
            token = next(self.state.tokens)
            self.state.securing[token] = job
            arm = job.kind is Transaction.CHECKIN  # a returned book is alarmed again
            effects.append(ev.SetSecurity(token, job.device, uid, secured=arm))

    def _on_SecurityDone(self, event: ev.SecurityDone, now: float, effects: Effects) -> None:
        job = self.state.securing.pop(event.token, None)
        if job is None:
            return
        wanted = job.kind is Transaction.CHECKIN
        if not event.ok or event.secured is not wanted:
            log.warning("security of %s (%s) not %s: %s", event.uid, job.item_id,
                        "set" if wanted else "cleared", event.error or f"read {event.secured}")
            job.security_failed = True
        job.pending.discard(event.uid)
        if not job.pending:
            outcome = Reason.SECURITY_FAILED if job.security_failed else (
                Outcome.OFFLINE if job.offline else Outcome.OK)
            self.state.finish(job, outcome, effects)
        self.state.publish()
