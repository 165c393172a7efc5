"""The admin screen's "Update from a USB stick" panel: look for sticks, list the update bundles
and e-book batches on them, install a bundle with a progress bar and restart into it, or apply
a batch with a progress bar and say what changed; or say in the screen's language what is
wrong and what to do.

The panel only shows; the media helper (kiosk.media, root) mounts and installs bundles. A
batch is checked and applied by the app itself (kiosk.media.batch_apply), on the same worker
thread, so the helper's mount stays while it is read. Calls go through a MediaWorker thread
and come back on Kivy's main thread (Clock), so the UI never waits on the socket or the
stick. Closing the panel (Back, or leaving the admin screen) hangs up, and the helper
unmounts the stick.
"""

from __future__ import annotations

import re
from enum import StrEnum

from kivy.clock import Clock
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from content.errors import BatchProblem
from kiosk.i18n import N_
from kiosk.media.batch_apply import BatchApplied, BatchRefused, apply_from_stick
from kiosk.media.client import MediaUnavailable
from kiosk.media.protocol import Batch, Failed, Installed, Problem, Progress, Rebooting, Scanned
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
    APPLYING = "applying"      # an e-book batch checked and applied, with progress
    APPLIED = "applied"
    RESTARTING = "restarting"
    FAILED = "failed"


# Each message id one string (split over lines by implicit concatenation only), so that
# tests/test_i18n.py finds it in both catalogues.
UNAVAILABLE = N_("USB sticks cannot be read here: the kiosk's USB helper (kiosk-media.socket) is "
                 "not running. Ask a technician to check it (systemctl status "
                 "kiosk-media.socket); on a kiosk installed with setup.sh, ./setup.sh install "
                 "sets it up again.")
SOMETHING_WRONG = N_("Something went wrong: {why}")
PROBLEMS = {
    Problem.NOT_FROM_IMAGE: N_("This kiosk was installed with setup.sh: its system is updated "
                               "with ./setup.sh install, not from a USB stick. E-book batches "
                               "on a stick work here."),
    Problem.NO_STICK: N_("No USB stick found. Plug in a stick (FAT32, exFAT or ext4) with the "
                         "update file (.raucb) or the e-book batch (.tar, or its folder) at its "
                         "top level, then press Look again."),
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
    Problem.NOT_FROM_IMAGE: N_("this kiosk is updated with ./setup.sh install"),
}
NOTHING_CHANGED = N_("Nothing was changed.")
# A refused batch: what is wrong, then what to do. {current} is the kiosk's catalogue version,
# {why} the store's own words (English), for the technician.
BATCH_PROBLEMS = {
    BatchProblem.NOT_A_BATCH: N_("This is not an e-book batch that can be read: {why}. Build it "
                                 "again on the staff PC with kiosk content build, and copy the "
                                 ".tar it makes to the stick."),
    BatchProblem.SIGNATURE: N_("This batch is not signed with this library's key, or it was "
                               "changed after signing. Build it again on the staff PC with the "
                               "library's signing key (kiosk content build … --key)."),
    BatchProblem.KEY: N_("This kiosk has no readable key to check batches with: {why}. Ask a "
                         "technician to install the library's public key as "
                         "content-signing.pub in the kiosk's data folder."),
    BatchProblem.OLDER: N_("This batch is older than the kiosk's e-book catalogue ({current}), "
                           "so it is not applied. To go back, a technician can use kiosk "
                           "content rollback, or apply it with: kiosk content apply "
                           "--allow-older BATCH"),
    BatchProblem.ALREADY_APPLIED: N_("This batch is already the kiosk's e-book catalogue "
                                     "({current}): there is nothing to do."),
    BatchProblem.DOES_NOT_FIT: N_("This batch does not fit the kiosk's e-book catalogue "
                                  "({current}): {why}. A month in between may be missing: "
                                  "apply the batches in order."),
    BatchProblem.DAMAGED: N_("The batch on the stick is damaged (a file is missing, cut short "
                             "or changed): {why}. Copy it to the stick again from the staff "
                             "PC, then press Look again."),
    BatchProblem.NO_SPACE: N_("The kiosk's data partition has too little free space for this "
                              "batch: {why}. Ask a technician to free space (kiosk content "
                              "list shows the versions kept)."),
    BatchProblem.BUSY: N_("Another e-book batch is being applied right now (the nightly "
                          "update). Wait a few minutes, then press Look again."),
}
STICK_UNREADABLE = N_("The USB stick could not be read while the batch was applied ({why}). "
                      "Plug it in again, then press Look again.")
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
CHOOSE_ANY = N_("This system is {running}, the e-book catalogue {current}. Choose what to "
                "install or apply:")
SIZE_MB = N_("{size} MB")
VERSION = N_("version {version}")
APPLY = N_("Apply")
BATCH_TAR = N_("e-book batch")
BATCH_FOLDER = N_("e-book batch (folder)")
NO_CATALOGUE = N_("none yet")
APPLYING = N_("Checking and applying the e-book batch {name}… Do not remove the USB stick.")
APPLIED = N_("E-book batch {batch} is applied: {added} titles added, {updated} updated, "
             "{withdrawn} withdrawn. The e-book screens show it now.")


TWO_LANGUAGES = re.compile(r" ?/ ")  # "中文 / English", also "中文（…）/ English"


def in_language(lang: str, why: str) -> str:
    """The part of a "中文 / English" reason (the content tools' refusals) in `lang`; a reason
    in one language only, as it is."""
    parts = TWO_LANGUAGES.split(why, maxsplit=1)
    if len(parts) < 2 or not any("\u4e00" <= c <= "\u9fff" for c in parts[0]):
        return why
    return parts[0] if lang.startswith("zh") else parts[1]


BUSY_STATES = (UsbState.INSTALLING, UsbState.RESTARTING, UsbState.APPLYING)


class UsbUpdatePanel(BoxLayout):
    """Shown in place of the admin screen's status list. `lang`/`translator` follow the
    screen; `keep_alive` is called on every progress step (the admin session stays open
    while an install or a batch runs); `when_applied` after a batch changed the catalogue;
    `batch_target` says where batches go (None: they are listed, not offered)."""

    state = StringProperty(UsbState.LOOKING.value)
    lang = StringProperty("zh_CN")
    translator = ObjectProperty(None)
    keep_alive = ObjectProperty(lambda: None)
    when_closed = ObjectProperty(lambda: None)  # not on_*: Kivy takes those for events
    when_applied = ObjectProperty(lambda: None)
    batch_target = ObjectProperty(None, allownone=True)
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
        self._applying: str | None = None  # the batch's name on the stick
        self._applied: BatchApplied | None = None
        self._catalogue: str | None = None  # the catalogue version when last looked
        self.bind(state=self._refresh, lang=self._refresh, translator=self._refresh)

    def tr(self, msgid: str, **args) -> str:
        return self.translator.tr(self.lang, msgid, **args) if self.translator else msgid

    # --- what staff press -----------------------------------------------------------------

    def look(self) -> None:
        if self.state in BUSY_STATES:
            return
        self._scanned = self._failure = None
        self._catalogue = self.batch_target.current_version() if self.batch_target else None
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

    def apply(self, batch: Batch) -> None:
        target = self.batch_target
        if self.state != UsbState.CHOOSE or target is None:
            return
        self._applying, self._applied, self.percent, self.step = batch.name, None, 0, ""
        self.state = UsbState.APPLYING
        self.worker.submit(lambda _client, progress: apply_from_stick(target, batch.path,
                                                                      progress),
                           self._applied_or_not, self._progress)

    def restart(self) -> None:
        if self.state != UsbState.INSTALLED:
            return
        self.state = UsbState.RESTARTING
        self.worker.submit(lambda client, _progress: client.reboot(), self._restarting)

    def close(self) -> None:
        """Back: hang up (the helper unmounts). Not while installing or applying."""
        if self.state in BUSY_STATES:
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
        # RAUC's own words for each step (its other lines, "idle" or errors, are the reply's),
        # or the megabytes of a batch checked.
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

    def _applied_or_not(self, result) -> None:
        self._catalogue = self.batch_target.current_version() if self.batch_target else None
        if isinstance(result, BatchApplied):
            self._applied = result
            self.percent = 100
            self.state = UsbState.APPLIED
            self.when_applied()
        else:
            self._fail(result)
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
        elif isinstance(reply, BatchRefused):
            self._failure = (self._batch_message(reply), {"why": reply.why})
        else:
            self._failure = (SOMETHING_WRONG, {"why": repr(reply)})
        self.state = UsbState.FAILED

    @staticmethod
    def _batch_message(refused: BatchRefused) -> str:
        if refused.problem is not None:
            return BATCH_PROBLEMS[refused.problem]
        return STICK_UNREADABLE if refused.unreadable else SOMETHING_WRONG

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
        if state is UsbState.APPLYING:
            return self.tr(APPLYING, name=self._applying or "?")
        if state is UsbState.APPLIED and self._applied is not None:
            report = self._applied.report
            return self.tr(APPLIED, batch=report.batch, added=len(report.added),
                           updated=len(report.updated), withdrawn=len(report.withdrawn))
        current = self._catalogue or self.tr(NO_CATALOGUE)
        if state is UsbState.FAILED and self._failure:
            msgid, args = self._failure
            args = {**args, "why": in_language(self.lang, str(args.get("why", "")))}
            message = self.tr(msgid, current=current, **args)
            if msgid in BATCH_PROBLEMS.values() or msgid == STICK_UNREADABLE:
                first = self.tr(NOTHING_CHANGED)
                space = "" if first.endswith("。") else " "  # Chinese sentences need none
                message = f"{first}{space}{message}"
            return message
        scanned = self._scanned
        if scanned is None:  # CHOOSE comes with what was scanned
            return ""
        running = scanned.running_version or "?"
        if any(s.batches for s in scanned.sticks) and self.batch_target is not None:
            return self.tr(CHOOSE_ANY, running=running, current=current)
        if not any(b.problem is None for s in scanned.sticks for b in s.bundles):
            return self.tr(NOTHING_NEWER, running=running)
        return self.tr(CHOOSE, running=running)

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
            for batch in stick.batches:
                kind = self.tr(BATCH_FOLDER if batch.folder else BATCH_TAR)
                size = self.tr(SIZE_MB, size=f"{batch.size / 1e6:.1f}")
                rows.append({"name": batch.name, "detail": f"{kind}, {size}",
                             "height": row_height(), "button_text": self.tr(APPLY),
                             "can_install": self.batch_target is not None,
                             "install": lambda b=batch: self.apply(b)})
        return rows
