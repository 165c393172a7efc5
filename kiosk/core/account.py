"""My account: the patron's loans (each looked up for its title and due date) and renewing one
or all of them, the due date before journaled with the intent.
Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

from dataclasses import replace

from kiosk.core import events as ev
from kiosk.core.circulation_state import Asked, CirculationState, Job, answer_of
from kiosk.core.circulation_view import Line
from kiosk.core.events import Screen
from kiosk.core.flow_port import Effects, Handlers
from kiosk.core.ils_calls import (
    ItemRecord,
    LookUpItem,
    LookUpPatron,
    PatronRecord,
    RenewLoan,
    RenewReply,
    due_text,
)
from kiosk.core.outcomes import (
    IdentifyMessage,
    LineStatus,
    NextAction,
    Outcome,
    Reason,
    Transaction,
)


class Account:
    """The account screen: loans listed, renewals asked and answered."""

    def __init__(self, state: CirculationState) -> None:
        self.state = state

    def handlers(self) -> Handlers:
        return {ev.Renew: self._on_Renew}

    def load(self, effects: Effects) -> None:
        flow = self.state.flow
        if flow.patron is None or flow.patron_id is None or not flow.patron.checked:
            return  # taken offline: the screen says the account cannot be shown
        flow.loading = True
        self.state.call_for_flow(effects, Asked.LOANS, LookUpPatron(flow.patron_id, flow.pin))

    def loans_answered(self, answer: ev.IlsAnswered, effects: Effects) -> None:
        flow = self.state.flow
        flow.loading = False
        info = answer_of(answer, PatronRecord)
        if info is None:
            flow.message = (IdentifyMessage.UNAVAILABLE if answer.offline
                            else IdentifyMessage.ILS_ERROR)
            return
        flow.charged, flow.overdue_ids = tuple(info.charged), tuple(info.overdue)
        self.show_loans(effects)

    def show_loans(self, effects: Effects) -> None:
        flow = self.state.flow
        flow.lines = {}
        for item_id in flow.charged:
            flow.lines[item_id] = Line(item_id, item_id, overdue=item_id in flow.overdue_ids)
            self.state.call_for_flow(effects, Asked.LOAN, LookUpItem(item_id), item_id=item_id)

    def loan_answered(self, item_id: str, answer: ev.IlsAnswered) -> None:
        line = self.state.flow.lines.get(item_id)
        if line is None:
            return
        item = answer_of(answer, ItemRecord)
        self.state.flow.lines[item_id] = replace(
            line, status=LineStatus.LISTED, title=(item.title if item else "") or line.title,
            due=due_text(None, item.due) if item else "")

    def _on_Renew(self, event: ev.Renew, now: float, effects: Effects) -> None:
        flow, screen = self.state.flow, self.state.view.screen
        if screen not in (Screen.ACCOUNT, Screen.BORROW) or flow.patron is None \
                or flow.patron_id is None:
            return
        if screen is Screen.ACCOUNT:
            targets = [line for line in flow.lines.values() if line.status is LineStatus.LISTED
                       and (event.item_id is None or line.item_id == event.item_id)]
        else:  # a book placed to borrow that is already theirs: its row offers renewal
            targets = [line for line in flow.lines.values() if line.item_id == event.item_id
                       and line.reason is Reason.OWN_LOAN and line.action is NextAction.RENEW]
        for line in targets:
            job = Job(Transaction.RENEW, line.item_id, flow.patron_id, self.state.flow_no,
                      title=line.title)
            job.line = line if screen is Screen.ACCOUNT else replace(
                line, reason=None, action=None, message="", renewal=True)
            flow.lines[line.item_id] = replace(line, status=LineStatus.BUSY)
            if not flow.patron.can_renew:
                self.state.finish(job, Reason.BLOCKED, effects)
            else:
                # The due date before, so that a renewal whose reply was lost can be told.
                before = {"due_before": line.due} if line.due else {}
                intent = self.state.intent(job, effects, before)
                renew = RenewLoan(flow.patron_id, line.item_id, flow.pin)
                self.state.call_for_job(effects, Asked.RENEW, job, renew, intent=intent)
        self.state.publish()

    def renew_answered(self, job: Job, answer: ev.IlsAnswered, effects: Effects) -> None:
        if answer.unknown:
            self.state.finish(job, Reason.UNKNOWN, effects)
            return
        result = answer_of(answer, RenewReply)
        if result is None:
            why = Reason.ILS_UNAVAILABLE if answer.offline else Reason.ILS_ERROR
            self.state.finish(job, why, effects)
            return
        job.title = result.title or job.title
        job.message = " ".join(result.screen_message)
        if result.ok:
            listed = job.line or Line(job.item_id, job.item_id, job.title)
            patron = self.state.flow.patron
            if listed.overdue and patron is not None and job.flow_no == self.state.flow_no:
                self.state.flow.patron = replace(patron, overdue=max(0, patron.overdue - 1))
            job.line = replace(listed, due=due_text(result.due_date, result.due),
                               renewed=True, overdue=False)
            self.state.finish(job, Outcome.OK, effects)
        else:
            self.state.finish(job, Reason.ILS_REFUSED, effects)
            if job.flow_no == self.state.flow_no:  # the loan is still listed, with why not
                line = self.state.flow.lines[job.item_id]
                due = job.line.due if job.line else line.due
                self.state.flow.lines[job.item_id] = replace(line, due=due)
