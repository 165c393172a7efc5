"""The staff admin screen: the checks `kiosk doctor` makes, live device states, restart, the
transactions the ILS refused when offline ones were sent later, and those whose result nobody
knows (a crash, a lost reply), each to mark as dealt with once staff have put it right; and
the system update or e-book batch from a USB stick (admin_usb.UsbUpdatePanel, in place of the
list). What is wrong comes first, under a line counting the faults (admin_summary), and
"Upload now" says what came of it beside the USB button."""

from __future__ import annotations

from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk.core import events as ev
from kiosk.i18n import N_
from kiosk.journal.store import parse_utc
from kiosk.ui.device_labels import device_label
from kiosk.ui.screens import admin_summary as summary
from kiosk.ui.screens.admin_usb import UsbUpdatePanel
from kiosk.ui.screens.base import KioskScreen

CHECK_NAMES = {
    "version": N_("Software version"),
    "config": N_("Configuration"),
    "journal": N_("Journal"),
    "disk": N_("Disk space"),
    "clock": N_("Clock"),
    "ebooks": N_("E-books"),
    "downloads": N_("E-book download server"),
    "ils": N_("Library system (SIP2)"),
    "central": N_("Central server"),
    "offline": N_("Offline transactions"),
    "unsettled": N_("Results not known"),
}
KINDS = {"checkout": N_("Borrow"), "checkin": N_("Return"), "renew": N_("Renew")}
UNSETTLED_WHY = N_(
    "The kiosk stopped or the answer was lost, and the library system could not tell what it did.")
VERDICTS = {True: N_("Working"), False: N_("FAULT"), None: N_("not set")}
# Works, but its advice names something to set right (kiosk.status.Check.warning); dark
# enough for white text (5.6:1).
ATTENTION, ATTENTION_COLOUR = N_("Attention"), (0.62, 0.33, 0.0, 1)
DEVICE_STATES = {
    "connected": N_("connected"),
    "degraded": N_("degraded"),
    "lost": N_("offline"),
    "unavailable": N_("unavailable"),
}
COLOURS = {True: (0.15, 0.5, 0.25, 1), False: (0.75, 0.15, 0.1, 1), None: (0.4, 0.4, 0.4, 1)}
# Why a connection failed, as the operating system says it (strerror), which checks pass on as
# an argument: said in the screen's language when it is one of these, else as it came.
REASONS = frozenset((
    N_("Connection refused"), N_("Connection timed out"), N_("No route to host"),
    N_("Network is unreachable"), N_("Connection reset by peer"),
    N_("Name or service not known"), N_("Temporary failure in name resolution"),
    N_("Address already in use"), N_("unknown"),
))
# The line above the list, by the worst rank in it.
HEADLINE_COLOURS = {summary.FAULT: COLOURS[False], summary.ATTENTION: ATTENTION_COLOUR,
                    summary.FINE: COLOURS[True]}


class AdminScreen(KioskScreen):
    rows = ListProperty([])
    headline = StringProperty("")  # "2 项故障", above the list
    headline_colour = ListProperty(COLOURS[None])
    upload_text = StringProperty("")  # what "Upload now" did, or that it runs
    # [devices] name -> source, to call each device what it is ("RFID pad"), not its key
    device_sources = DictProperty({})
    usb_open = BooleanProperty(False)
    batch_target = ObjectProperty(None, allownone=True)  # kiosk.media.batch_apply.BatchTarget
    now = 0.0  # the runtime's clock, for "offline for 3 min"
    usb_panel: UsbUpdatePanel | None = None
    _set_aside: tuple = ()  # the status list and the buttons while the panel shows

    def on_view(self, _instance, _view) -> None:
        self.refresh_rows()

    def on_lang(self, _instance, lang) -> None:
        self.refresh_rows()
        if self.usb_panel is not None:
            self.usb_panel.lang = lang

    # --- the USB stick panel ----------------------------------------------------------------

    def open_usb(self) -> None:
        """The panel in place of the status list, looking for sticks at once."""
        if self.usb_open:
            return
        self.usb_panel = UsbUpdatePanel(lang=self.lang, translator=self.translator,
                                        keep_alive=lambda: self.send(ev.Touch()),
                                        when_closed=self.close_usb,
                                        # the status list's e-book check names the new batch
                                        when_applied=lambda: self.send(ev.RefreshStatus()),
                                        batch_target=self.batch_target)
        body = self.ids.body
        # kv's ids are weak references: held here while out of the tree, else the garbage
        # collector may take them before the panel closes (an e-book batch takes a while).
        self._set_aside = (self.ids.status.__self__, self.ids.actions.__self__)
        body.remove_widget(self.ids.status)
        body.add_widget(self.usb_panel)
        self.ids.column.remove_widget(self.ids.actions)  # the panel has its own Back
        self.usb_open = True
        self.usb_panel.look()

    def close_usb(self) -> None:
        """The status list back; the panel's connection hung up (the stick unmounted)."""
        panel, self.usb_panel = self.usb_panel, None
        if panel is None:
            return
        panel.worker.close()
        body = self.ids.body
        status, actions = self._set_aside
        body.remove_widget(panel)
        body.add_widget(status)
        self.ids.column.add_widget(actions)  # below the list again
        self.usb_open = False

    def on_leave(self, *args) -> None:
        self.close_usb()  # timed out or exited: never leave a stick mounted behind

    def refresh_rows(self) -> None:
        view = self.view
        if view is None or self.translator is None:
            self.rows = []
            return
        names = self._device_names(view.devices)
        ranked = [self._device_row(names[name], device)
                  for name, device in sorted(view.devices.items())]
        if view.status is not None:
            for check in view.status.checks:
                if check.name.startswith("device"):
                    continue  # live states above are fresher than the probe's
                name = CHECK_NAMES.get(check.name)
                label = self.tr(self.lang, name) if name else check.name
                text = self._message(check.summary)
                if check.advice:
                    text += " — " + self._message(check.advice)
                ranked.append((summary.rank(check.ok, check.warning),
                               self._row(check.ok, label, text, warning=check.warning)))
        rows = summary.faults_first(ranked)
        ranks = [rank for rank, _row in ranked]
        if view.status is None:  # the devices' live states meanwhile, the checks to come
            self.headline = self.tr(self.lang, "Checking…")
            self.headline_colour = COLOURS[None]
        else:
            rows += self._refused_rows(view.status.offline_refused)
            rows += self._unsettled_rows(view.status.unsettled)
            self.headline = summary.headline(self._tr, ranks)
            self.headline_colour = HEADLINE_COLOURS[min(ranks, default=summary.FINE)]
        self.upload_text = summary.upload_line(self._tr, view.uploading, view.upload_result)
        self.rows = rows

    def _tr(self, msgid: str, **args: object) -> str:
        return self.tr(self.lang, msgid, **args)

    def _device_names(self, devices) -> dict[str, str]:
        """Each device by what it is ("RFID 感应区"); its config key beside it only where two
        are of one kind, and alone where the config does not say (a test's screen)."""
        kinds = {name: _capitalised(self.tr(self.lang, device_label(self.device_sources[name])))
                 for name in devices if name in self.device_sources}
        shared = {kind for kind in kinds.values() if list(kinds.values()).count(kind) > 1}
        return {name: (self.tr(self.lang, "Device {name}", name=name) if name not in kinds
                       else f"{kinds[name]} ({name})" if kinds[name] in shared else kinds[name])
                for name in devices}

    def _unsettled_rows(self, intents) -> list[dict]:
        return self._staff_tasks(
            N_("Result not known, please check in the library system: {count}"),
            [(f"{parse_utc(intent.time_utc).astimezone():%Y-%m-%d %H:%M}  "
              f"{self.tr(self.lang, KINDS[intent.outcome])}  "
              f"{intent.item or ''} {intent.title or ''}".strip(),
              self.tr(self.lang, UNSETTLED_WHY), N_("Checked"),
              lambda seq=intent.seq: self.send(ev.IntentChecked(seq)), {})
             for intent in intents])

    def _refused_rows(self, refused) -> list[dict]:
        tasks = []
        for tx in refused:
            book = f"{tx.item_id} {tx.title}".strip()
            who = self.tr(self.lang, "Card {card}", card=tx.patron_masked) \
                if tx.patron_masked else ""
            reason = tx.message or self.tr(self.lang, "no reason given")
            tasks.append((f"{tx.when_utc.astimezone():%Y-%m-%d %H:%M}  "
                          f"{self.tr(self.lang, KINDS[tx.kind])}  {book}",
                          f"{who}  {reason}".strip(), N_("Dealt with"),
                          lambda tx_id=tx.id: self.send(ev.AcknowledgeOffline(tx_id)),
                          {"offline_id": tx.id}))
        return self._staff_tasks(N_("Refused by the library system when sent later: {count}"),
                                 tasks)

    def _staff_tasks(self, heading: str, tasks: list) -> list[dict]:
        """A heading with the count, then a row per task: (what, why, button msgid, action,
        more of the row's properties)."""
        if not tasks:
            return []
        rows = [{"viewclass": "OfflineHeading",
                 "text": self.tr(self.lang, heading, count=len(tasks))}]
        rows += [{"viewclass": "OfflineRow", "what": what,
                  "why": why, "button_text": self.tr(self.lang, button), "acknowledge": action,
                  **more}
                 for what, why, button, action, more in tasks]
        return rows

    def _device_row(self, label: str, device) -> tuple[int, dict]:
        """(rank, row): degraded works in part, so is to look at; lost or absent is a fault."""
        ok = device.state == "connected"
        state = self.tr(self.lang, DEVICE_STATES.get(device.state, device.state))
        minutes = max(0, int((self.now - device.since) // 60))
        since = self.tr(self.lang, "for {minutes} min", minutes=minutes)
        detail = self.tr(self.lang, "{state}, {since}", state=state, since=since) \
            + (f" ({device.detail})" if device.detail else "")
        if device.faults:
            detail = self.tr(self.lang, "{detail}; {reads}", detail=detail, reads=self.tr(
                self.lang, "{count} unusable reads", count=device.faults))
        degraded = device.state == "degraded"
        return (summary.rank(ok or degraded, degraded),
                self._row(ok or degraded, label, detail, warning=degraded))

    def _message(self, message) -> str:
        """A check's words, and of its arguments the operating system's usual reasons too."""
        args = {key: self.tr(self.lang, value) if isinstance(value, str) and value in REASONS
                else value
                for key, value in message.args.items()}
        return self.tr(self.lang, message.msgid, **args)

    def _row(self, ok: bool | None, name: str, text: str, *, warning: bool = False) -> dict:
        if ok and warning:
            return {"verdict": self.tr(self.lang, ATTENTION), "verdict_colour": ATTENTION_COLOUR,
                    "name": name, "summary": text}
        return {"verdict": self.tr(self.lang, VERDICTS[ok]), "verdict_colour": COLOURS[ok],
                "name": name, "summary": text}


def _capitalised(name: str) -> str:
    """"barcode scanner", said within a sentence elsewhere, as a row's name."""
    return name[:1].upper() + name[1:]
