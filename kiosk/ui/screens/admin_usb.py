"""The admin screen's "Update from a USB stick" panel: look for sticks, list the update bundles
on them, install one with a progress bar, then restart into it, or say in the screen's
language what is wrong and what to do.

The panel only shows; the media helper (kiosk.media, root) mounts and installs. Calls go
through a MediaWorker thread and come back on Kivy's main thread (Clock), so the UI never
waits on the socket. Closing the panel (Back, or leaving the admin screen) hangs up, and the
helper unmounts the stick.
"""

from __future__ import annotations

from enum import StrEnum

from kivy.clock import Clock
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.i18n import N_
from kiosk.media.client import MediaUnavailable
from kiosk.media.protocol import Failed, Installed, Problem, Progress, Rebooting, Scanned
from kiosk.media.worker import MediaWorker
from kiosk.ui.typescale import SIZES


def row_height() -> int:
    """A bundle's two lines at the screen's type scale, with room between rows."""
    return max(64, round((SIZES["small"] + SIZES["caption"]) * 1.6) + 8)


class UsbState(StrEnum):
    LOOKING = "looking"
    CHOOSE = "choose"          # bundles listed (maybe none installable)
    INSTALLING = "installing"
    INSTALLED = "installed"
    RESTARTING = "restarting"
    FAILED = "failed"


# Each message id one string (split over lines by implicit concatenation only), so that
# tests/test_i18n.py finds it in both catalogues.
UNAVAILABLE = N_("USB updates are not available here: the kiosk's USB helper (kiosk-media.socket) "
                 "is not running. A kiosk installed with setup.sh is updated with ./setup.sh "
                 "install instead; on a kiosk from the SD-card image, ask a technician to check "
                 "kiosk-media.socket.")
SOMETHING_WRONG = N_("Something went wrong: {why}")
PROBLEMS = {
    Problem.NOT_FROM_IMAGE: UNAVAILABLE,
    Problem.NO_STICK: N_("No USB stick found. Plug in a stick (FAT32, exFAT or ext4) with the "
                         "update file (.raucb) at its top level, then press Look again."),
    Problem.MOUNT_FAILED: N_("The USB stick cannot be read. Try another stick, formatted FAT32 or "
                             "exFAT, then press Look again."),
    Problem.NOT_FOUND: N_("The update file is no longer on the stick. Press Look again."),
    Problem.OLDER: N_("This update is not newer than the running system, so it is not installed "
                      "here. A technician can go back with: kiosk update install --allow-older"),
    Problem.NOT_A_BUNDLE: N_("This file is not an update signed for this kiosk. Ask whoever "
                             "publishes the kiosk's updates for a new file."),
    Problem.BUSY: N_("Another update is being installed. Wait until it ends, then look again."),
    Problem.INSTALL_FAILED: N_("The update could not be installed. Nothing was changed: this "
                               "system stays as it is. Give a technician these details: {why}"),
    Problem.NOT_INSTALLED: SOMETHING_WRONG,
    Problem.BAD_REQUEST: SOMETHING_WRONG,
    Problem.UNEXPECTED_REPLY: SOMETHING_WRONG,
}
# What a bundle row says when it cannot be installed.
ROW_PROBLEMS = {
    Problem.OLDER: N_("not newer than this system"),
    Problem.NOT_A_BUNDLE: N_("not an update for this kiosk"),
}
CANNOT_INSTALL = N_("cannot be installed")
HEADING = N_("Update from a USB stick")
LOOK_AGAIN = N_("Look again")
RESTART_NOW = N_("Restart now")
BACK = N_("Back")
INSTALL = N_("Install")
LOOKING = N_("Looking for USB sticks…")
INSTALLING = N_("Installing {version}… Do not remove the USB stick or switch the kiosk off.")
INSTALLED = N_("Update {version} is installed. Restart now to start it. If it does not work, the "
               "kiosk goes back to {running} by itself.")
RESTARTING = N_("Restarting…")
NOTHING_NEWER = N_("This system is {running}. No newer update (.raucb) is on the USB stick.")
CHOOSE = N_("This system is {running}. Choose the update to install:")
SIZE_MB = N_("{size} MB")
VERSION = N_("version {version}")


class UsbUpdatePanel(BoxLayout):
    """Shown in place of the admin screen's status list. `lang`/`translator` follow the
    screen; `keep_alive` is called on every progress step (the admin session stays open
    while an install runs)."""

    state = StringProperty(UsbState.LOOKING.value)
    lang = StringProperty("zh_CN")
    translator = ObjectProperty(None)
    keep_alive = ObjectProperty(lambda: None)
    when_closed = ObjectProperty(lambda: None)  # not on_*: Kivy takes those for events
    heading = StringProperty("")
    message = StringProperty("")
    step = StringProperty("")
    percent = NumericProperty(0)
    rows = ListProperty([])
    look_text = StringProperty("")
    restart_text = StringProperty("")
    back_text = StringProperty("")

    def __init__(self, worker: MediaWorker | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.worker = worker or MediaWorker(lambda fn: Clock.schedule_once(lambda _dt: fn()))
        self._scanned: Scanned | None = None
        self._failure: tuple[str, dict] | None = None
        self._installed: Installed | None = None
        self._installing: str | None = None
        self.bind(state=self._refresh, lang=self._refresh, translator=self._refresh)

    def tr(self, msgid: str, **args) -> str:
        return self.translator.tr(self.lang, msgid, **args) if self.translator else msgid

    # --- what staff press -----------------------------------------------------------------

    def look(self) -> None:
        if self.state in (UsbState.INSTALLING, UsbState.RESTARTING):
            return
        self._scanned = self._failure = None
        self.state = UsbState.LOOKING
        self._refresh()
        self.worker.submit(lambda client, _progress: client.scan(), self._looked)

    def install(self, path: str, version: str | None) -> None:
        if self.state != UsbState.CHOOSE:
            return
        self._installing, self.percent, self.step = version, 0, ""
        self.state = UsbState.INSTALLING
        self.worker.submit(lambda client, progress: client.install(path, progress),
                           self._installed_or_not, self._progress)

    def restart(self) -> None:
        if self.state != UsbState.INSTALLED:
            return
        self.state = UsbState.RESTARTING
        self.worker.submit(lambda client, _progress: client.reboot(), self._restarting)

    def close(self) -> None:
        """Back: hang up (the helper unmounts). Not while installing."""
        if self.state in (UsbState.INSTALLING, UsbState.RESTARTING):
            return
        self.worker.close()
        self.when_closed()

    # --- what the helper says (main thread) -------------------------------------------------

    def _looked(self, reply) -> None:
        if isinstance(reply, Scanned):
            self._scanned = reply
            self.state = UsbState.CHOOSE
        else:
            self._fail(reply)
        self._refresh()

    def _progress(self, step: Progress) -> None:
        # RAUC's own words for each step; its other lines ("idle", errors) are the reply's.
        if step.percent is not None:
            self.percent = step.percent
            self.step = f"{step.percent}%  {step.message}"
        self.keep_alive()

    def _installed_or_not(self, reply) -> None:
        if isinstance(reply, Installed):
            self._installed = reply
            self.percent = 100
            self.state = UsbState.INSTALLED
        else:
            self._fail(reply)
        self._refresh()

    def _restarting(self, reply) -> None:
        if not isinstance(reply, Rebooting):
            self._fail(reply)
        self._refresh()

    def _fail(self, reply) -> None:
        if isinstance(reply, MediaUnavailable):
            self._failure = (UNAVAILABLE, {})
        elif isinstance(reply, Failed):
            self._failure = (PROBLEMS[reply.problem], {"why": reply.why})
        else:
            self._failure = (SOMETHING_WRONG, {"why": repr(reply)})
        self.state = UsbState.FAILED

    # --- what it shows ----------------------------------------------------------------------

    def _refresh(self, *_args) -> None:
        state = UsbState(self.state)
        self.heading = self.tr(HEADING)
        self.look_text = self.tr(LOOK_AGAIN)
        self.restart_text = self.tr(RESTART_NOW)
        self.back_text = self.tr(BACK)
        self.rows = self._rows() if state is UsbState.CHOOSE else []
        self.message = self._message(state)

    def _message(self, state: UsbState) -> str:
        if state is UsbState.LOOKING:
            return self.tr(LOOKING)
        if state is UsbState.INSTALLING:
            return self.tr(INSTALLING, version=self._installing or "?")
        if state is UsbState.INSTALLED and self._installed is not None:
            running = self._scanned.running_version if self._scanned else None
            return self.tr(INSTALLED, version=self._installed.version or "?",
                           running=running or "?")
        if state is UsbState.RESTARTING:
            return self.tr(RESTARTING)
        if state is UsbState.FAILED and self._failure:
            msgid, args = self._failure
            return self.tr(msgid, **args)
        scanned = self._scanned
        if scanned is None:  # CHOOSE comes with what was scanned
            return ""
        running = scanned.running_version
        if not any(b.problem is None for s in scanned.sticks for b in s.bundles):
            return self.tr(NOTHING_NEWER, running=running or "?")
        return self.tr(CHOOSE, running=running or "?")

    def _rows(self) -> list[dict]:
        rows: list[dict] = []
        for stick in self._scanned.sticks if self._scanned else ():
            for bundle in stick.bundles:
                size = self.tr(SIZE_MB, size=f"{bundle.size / 1e6:.0f}")
                detail = (self.tr(VERSION, version=bundle.version)
                          if bundle.version else "")
                detail = ", ".join(p for p in (detail, size) if p)
                if bundle.problem is not None:
                    detail += " — " + self.tr(ROW_PROBLEMS.get(bundle.problem, CANNOT_INSTALL))
                rows.append({"name": bundle.name, "detail": detail, "height": row_height(),
                             "can_install": bundle.problem is None,
                             "button_text": self.tr(INSTALL),
                             "install": lambda b=bundle: self.install(b.path, b.version)})
        return rows
