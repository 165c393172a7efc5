"""The staff admin screen: the checks `kiosk doctor` makes, live device states, restart."""

from __future__ import annotations

from kivy.properties import ListProperty

from kiosk.i18n import N_
from kiosk.ui.screens.base import KioskScreen

CHECK_NAMES = {
    "version": N_("Software version"),
    "config": N_("Configuration"),
    "journal": N_("Journal"),
    "disk": N_("Disk space"),
    "clock": N_("Clock"),
    "ils": N_("Library system (SIP2)"),
    "central": N_("Central server"),
}
VERDICTS = {True: N_("Working"), False: N_("FAULT"), None: N_("not set")}
DEVICE_STATES = {
    "connected": N_("connected"),
    "lost": N_("offline"),
    "unavailable": N_("unavailable"),
}
COLOURS = {True: (0.15, 0.5, 0.25, 1), False: (0.75, 0.15, 0.1, 1), None: (0.4, 0.4, 0.4, 1)}


class AdminScreen(KioskScreen):
    rows = ListProperty([])
    now = 0.0  # the runtime's clock, for "offline for 3 min"

    def on_view(self, _instance, _view) -> None:
        self.refresh_rows()

    def on_lang(self, _instance, _lang) -> None:
        self.refresh_rows()

    def refresh_rows(self) -> None:
        view = self.view
        if view is None or self.translator is None:
            self.rows = []
            return
        rows = [self._device_row(name, device) for name, device in sorted(view.devices.items())]
        if view.status is None:
            rows.append(self._row(None, self.tr(self.lang, "Status"),
                                  self.tr(self.lang, "Checking…")))
        else:
            for check in view.status.checks:
                if check.name.startswith("device"):
                    continue  # live states above are fresher than the probe's
                name = CHECK_NAMES.get(check.name)
                label = self.tr(self.lang, name) if name else check.name
                text = self._message(check.summary)
                if check.advice:
                    text += " — " + self._message(check.advice)
                rows.append(self._row(check.ok, label, text))
        self.rows = rows

    def _device_row(self, name: str, device) -> dict:
        ok = device.state == "connected"
        state = self.tr(self.lang, DEVICE_STATES.get(device.state, device.state))
        minutes = max(0, int((self.now - device.since) // 60))
        since = self.tr(self.lang, "for {minutes} min", minutes=minutes)
        detail = f"{state}, {since}" + (f" ({device.detail})" if device.detail else "")
        if device.faults:
            detail += "; " + self.tr(self.lang, "{count} unusable reads", count=device.faults)
        return self._row(ok, self.tr(self.lang, "Device {name}", name=name), detail)

    def _message(self, message) -> str:
        return self.tr(self.lang, message.msgid, **message.args)

    def _row(self, ok: bool | None, name: str, text: str) -> dict:
        return {"verdict": self.tr(self.lang, VERDICTS[ok]), "verdict_colour": COLOURS[ok],
                "name": name, "summary": text}
