"""What the patron presents: tags on the RFID pad (books, their parts, patron cards) and barcodes
scanned. Each complete item on the pad, or scanned, becomes a line and a checkout or checkin
asked of the ILS (its intent journaled first); a missing part or an unreadable tag is shown.
Part of the circulation flow (`kiosk.core.circulation`); pure.
"""

from __future__ import annotations

from common.masking import mask
from drivers.events import BarcodeRead, CardRead, TagsSeen
from kiosk.core import events as ev
from kiosk.core.circulation_state import Asked, CirculationState, Job
from kiosk.core.circulation_view import Line
from kiosk.core.events import EBOOK_SCREENS, WELCOMING, Screen
from kiosk.core.flow_port import Effects, Handlers
from kiosk.core.identification import Identification
from kiosk.core.ils_calls import CheckIn, CheckOut, LookUpItem
from kiosk.core.outcomes import LineStatus, NextAction, Reason, Transaction


class Pad:
    """The pad and the scanner: items presented become transactions; cards go to identification."""

    def __init__(self, state: CirculationState, ident: Identification) -> None:
        self.state = state
        self.ident = ident

    def handlers(self) -> Handlers:
        return {BarcodeRead: self._on_BarcodeRead, CardRead: self._on_CardRead,
                TagsSeen: self._on_TagsSeen}

    def _on_BarcodeRead(self, event: BarcodeRead, now: float, effects: Effects) -> None:
        if event.kind == "patron":
            self.ident.card_presented(event.data, now, effects)
        elif event.kind == "ecard":
            number = next((event.data[len(p):] for p in self.state.circ.ecard_prefixes
                           if event.data.startswith(p)), event.data).strip()
            self.ident.card_presented(number, now, effects, physical=False)
        elif event.kind == "item":
            self._item_presented(event.data, (), None, now, effects)
        elif event.kind == "isbn":
            # A title's number, not this copy's.
            self.state.session.acknowledge(now, "scan_isbn", {})
        else:
            self.state.session.acknowledge(now, "scan_unknown", {})
        self.state.publish()

    def _on_CardRead(self, event: CardRead, now: float, effects: Effects) -> None:
        self.ident.card_presented(event.data.strip(), now, effects)
        self.state.publish()

    def _on_TagsSeen(self, event: TagsSeen, now: float, effects: Effects) -> None:
        cards = {t.uid: t.item_id for t in event.tags if t.usage == "patron_card" and t.item_id}
        self.state.pad_tags = tuple(t for t in event.tags if t.uid not in cards)
        self.state.stale &= {t.uid for t in event.tags}
        self.state.pad_sets = tuple(s for s in event.sets if s.item_id not in cards.values())
        self.state.pad_source = event.source
        for uid, number in cards.items():
            if uid not in self.state.pad_cards:  # a card left lying there is presented once
                self.ident.card_presented(number, now, effects)
        self.state.pad_cards = set(cards)
        if self.state.pad_tags:
            self._pad_changed(now, effects)
        self.state.publish()

    def _pad_changed(self, now: float, effects: Effects) -> None:
        screen = self.state.view.screen
        if screen is Screen.BLOCKED:
            return  # the stop says why nothing is lent; returning is its button
        if screen is Screen.RETURN or (screen is Screen.BORROW and self.state.flow.patron):
            self.take_pad(now, effects)
            return
        unreadable = sum(1 for tag in self.state.pad_tags if tag.item_id is None or tag.error)
        missing = sum(1 for item in self.state.pad_sets if not item.complete)
        if unreadable:
            self.state.session.acknowledge(now, "tags_unreadable", {"count": str(unreadable)})
        elif missing:
            self.state.session.acknowledge(now, "tags_incomplete", {"count": str(missing)})
        elif screen in (*WELCOMING, Screen.HOME, *EBOOK_SCREENS):
            count = str(len(self.state.pad_sets))
            self.state.session.acknowledge(now, "tags_seen", {"count": count})
        elif screen is Screen.IDENTIFY:
            self.state.session.acknowledge(now, "card_first", {})

    def take_pad(self, now: float, effects: Effects) -> None:
        """Every complete item on the pad not yet on the screen becomes a line."""
        if not self.state.circ.ils:
            return  # the screen says the service is not set up here
        left = self.state.left_on_pad()
        if left and not self.state.told_left:
            self.state.told_left = True  # said once a session; the screen shows it meanwhile
            effects.append(ev.LeftOnPad(left))
        lines = self.state.flow.lines
        for item in self.state.pad_sets:
            line = lines.get(item.item_id)
            if line is not None and line.reason is not Reason.INCOMPLETE_SET:
                continue
            parts = [t for t in self.state.pad_tags if t.item_id == item.item_id and not t.error]
            if parts and all(t.uid in self.state.stale for t in parts):
                continue
            if not item.complete:
                self._incomplete(item.item_id, effects)
                continue
            usage = next((t.usage for t in parts), None)
            self._item_presented(item.item_id, tuple(t.uid for t in parts), usage, now, effects)
        for tag in self.state.pad_tags:
            if (tag.item_id is None or tag.error) and f"tag:{tag.uid}" not in lines \
                    and tag.uid not in self.state.stale:
                line = Line(f"tag:{tag.uid}", "", status=LineStatus.STAFF,
                            reason=Reason.UNREADABLE_TAG, action=NextAction.STAFF)
                lines[line.key] = line
                self.state.tell_refused(line, effects)

    def _incomplete(self, item_id: str, effects: Effects) -> None:
        """A set with a part missing waits for it, shown by its title (asked of the ILS once)."""
        lines = self.state.flow.lines
        before = lines.get(item_id)
        title = before.title if before is not None else ""
        line = Line(item_id, item_id, title, status=LineStatus.REFUSED,
                    reason=Reason.INCOMPLETE_SET, action=NextAction.ADD_PARTS)
        lines[item_id] = line
        if before is None:
            self.state.tell_refused(line, effects)
        if not title and item_id not in self.state.titles_asked:
            self.state.titles_asked.add(item_id)
            self.state.call_for_flow(effects, Asked.TITLE, LookUpItem(item_id), item_id=item_id)

    def _item_presented(self, item_id: str, uids: tuple[str, ...], usage: str | None,
                        now: float, effects: Effects) -> None:
        screen = self.state.view.screen
        if screen is Screen.BLOCKED:
            return  # the stop says why nothing is lent
        if screen in WELCOMING:
            self.state.session.open_session(now)
            screen = Screen.HOME
        if screen not in (Screen.BORROW, Screen.RETURN) or (
                screen is Screen.BORROW and self.state.flow.patron is None):
            message = "card_first" if screen is Screen.IDENTIFY else "choose_service"
            self.state.session.acknowledge(now, message, {"code": mask(item_id)})
            return
        lines = self.state.flow.lines
        if not self.state.circ.ils or (item_id in lines
                                  and lines[item_id].reason is not Reason.INCOMPLETE_SET):
            return  # not set up here (the screen says so), or already on the screen
        if not uids:  # a barcode: its tags, when they lie on the pad, are part of the deal
            tags = [t for t in self.state.pad_tags if t.item_id == item_id and not t.error]
            item = next((s for s in self.state.pad_sets if s.item_id == item_id), None)
            if item is not None and not item.complete:
                self._incomplete(item_id, effects)
                return
            uids, usage = tuple(t.uid for t in tags), next((t.usage for t in tags), usage)
        flow = self.state.flow
        kind = Transaction.CHECKOUT if screen is Screen.BORROW else Transaction.CHECKIN
        title = lines[item_id].title if item_id in lines else ""  # a set's, while incomplete
        job = Job(kind, item_id, flow.patron_id if kind is Transaction.CHECKOUT else None,
                  self.state.flow_no, title=title, device=self.state.pad_source, uids=uids,
                  usage=usage)
        lines[item_id] = Line(item_id, item_id, title)
        if kind is Transaction.CHECKOUT:
            # Borrowing takes books only once a patron was taken (checked above).
            assert flow.patron is not None and flow.patron_id is not None
            if not flow.patron.can_borrow:
                self.state.finish(job, Reason.BLOCKED, effects)
            else:
                checkout = CheckOut(flow.patron_id, item_id, flow.pin)
                self.state.call_for_job(effects, Asked.CHECKOUT, job, checkout,
                                    intent=self.state.intent(job, effects))
        else:
            self.state.call_for_job(effects, Asked.CHECKIN, job, CheckIn(item_id),
                                intent=self.state.intent(job, effects))
