"""The admin screen's "Update from a USB stick" panel: look for sticks, list the update bundles
and e-book batches on them, install a bundle with a progress bar and restart into it, or apply
a batch with a progress bar and say what changed; or say what is wrong and what to do. A
batch's row says what it is (its manifest's name and titles) and how it stands against the
kiosk's catalogue; several newer ones are applied one at a time, oldest first. The result and
every refusal are said in the screen's language, then in the other one below it.

The panel only shows; the media helper (kiosk.media, root) mounts and installs bundles. A
batch is checked and applied by the app's own child process (kiosk.media.apply_process, so
that the signature check's cryptography never stays in the app), waited for on the same
worker thread, so the helper's mount stays while it is read. Calls go through a MediaWorker thread
and come back on Kivy's main thread (Clock), so the UI never waits on the socket or the
stick. Closing the panel (Back, or leaving the admin screen) hangs up, and the helper
unmounts the stick.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from content.errors import BatchProblem
from kiosk.i18n import LANGUAGES, N_
from kiosk.media.apply_process import apply_elsewhere
from kiosk.media.batch_apply import BatchApplied, BatchLook, BatchRefused, Standing, look_into
from kiosk.media.client import MediaUnavailable
from kiosk.media.protocol import Batch, Failed, Installed, Problem, Progress, Rebooting, Scanned
from kiosk.media.worker import MediaWorker
from kiosk.ui.typescale import SIZES


def row_height() -> int:
    """A bundle's two lines at the screen's type scale, with room between rows."""
    return max(64, round((SIZES["small"] + SIZES["caption"]) * 1.6) + 8)


BUTTON_WIDTH = 170  # a row's Install / Apply (admin_usb.kv)


def batch_row_height(standing: str, width: float) -> int:
    """A batch's rows: its name and detail as a bundle's, then its standing, wrapped to
    `width` (the words of an older batch take two lines on the small screen)."""
    label = CoreLabel(text=standing, font_size=SIZES["caption"], text_size=(max(width, 50), None))
    label.refresh()
    return row_height() + round(label.texture.size[1]) + 4


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
    BatchProblem.KEY: N_("This kiosk has no readable key to check batches with: {why}. Copy "
                         "the library's public key, content-signing.pub, onto the SD card's "
                         "boot partition (it is installed at the next start), or ask a "
                         "technician to put it in the kiosk's data folder."),
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
SEVERAL_NEWER = N_("Several newer e-book batches are on the stick: they are applied one at a "
                   "time, oldest first. Apply {first}, then press Look again for the next.")
SIZE_MB = N_("{size} MB")
VERSION = N_("version {version}")
APPLY = N_("Apply")
BATCH_TAR = N_("e-book batch")
BATCH_FOLDER = N_("e-book batch (folder)")
NO_CATALOGUE = N_("none yet")
APPLYING = N_("Checking and applying the e-book batch {name}… Do not remove the USB stick.")
APPLIED = N_("E-book batch {batch} is applied: {added} titles added, {updated} updated, "
             "{withdrawn} withdrawn. The e-book screens show it now.")
TITLES = N_("{titles} titles")
# How a batch on the stick stands against the kiosk's catalogue, on its row.
STANDINGS = {
    Standing.NEWER: N_("newer than this kiosk's catalogue ({current}): press Apply"),
    Standing.LATER: N_("newer, but {first} comes first: apply that one, then press Look "
                       "again"),
    Standing.CURRENT: N_("already applied: this is the kiosk's catalogue"),
    Standing.OLDER: N_("older than this kiosk's catalogue (a technician can apply it with kiosk "
                       "content apply --allow-older)"),
    Standing.UNREADABLE: N_("cannot be read: {why}. Copy it to the stick again from the staff "
                            "PC."),
    Standing.NOT_READ: N_("not looked into yet ({why}): Apply checks it first"),
}
CAN_APPLY = (Standing.NEWER, Standing.NOT_READ)


TWO_LANGUAGES = re.compile(r" ?/ ")  # "中文 / English", also "中文（…）/ English"


def in_language(lang: str, why: str) -> str:
    """The part of a "中文 / English" reason (the content tools' refusals) in `lang`; a reason
    in one language only, as it is."""
    parts = TWO_LANGUAGES.split(why, maxsplit=1)
    if len(parts) < 2 or not any("\u4e00" <= c <= "\u9fff" for c in parts[0]):
        return why
    return parts[0] if lang.startswith("zh") else parts[1]


Translate = Callable[..., str]  # Translator.tr: (language, msgid, **args) -> text


def other_language(lang: str) -> str:
    return LANGUAGES[1] if lang.startswith("zh") else LANGUAGES[0]


def in_both(lang: str, say: Callable[[str], str]) -> str:
    """What `say` says in `lang`, then, below it, in the other language."""
    return f"{say(lang)}\n\n{say(other_language(lang))}"


Failure = tuple[str, dict]  # a message id and its arguments


def refusal(refused: BatchRefused) -> Failure:
    if refused.problem is not None:
        msgid = BATCH_PROBLEMS[refused.problem]
    else:
        msgid = STICK_UNREADABLE if refused.unreadable else SOMETHING_WRONG
    return msgid, {"why": refused.why}


def failure_in_both(tr: Translate, lang: str, failure: Failure, current: str | None) -> str:
    """A refusal in both languages; {why}, when the content tools' "中文 / English", split
    between them; {current}, the catalogue's version. A batch's refusal first says that
    nothing was changed."""
    msgid, args = failure

    def say(language: str) -> str:
        why = in_language(language, str(args.get("why", "")))
        message = tr(language, msgid, **{**args, "why": why,
                                         "current": current or tr(language, NO_CATALOGUE)})
        if msgid not in BATCH_PROBLEMS.values() and msgid != STICK_UNREADABLE:
            return message
        first = tr(language, NOTHING_CHANGED)
        space = "" if first.endswith("。") else " "  # Chinese sentences need none
        return f"{first}{space}{message}"
    return in_both(lang, say)


def applied_in_both(tr: Translate, lang: str, applied: BatchApplied) -> str:
    report = applied.report
    return in_both(lang, lambda language: tr(
        language, APPLIED, batch=report.batch, added=len(report.added),
        updated=len(report.updated), withdrawn=len(report.withdrawn)))


@dataclass(frozen=True)
class StickLook:
    """A scan, and what the worker read of its batches and of the catalogue."""
    scanned: Scanned
    batches: dict[str, BatchLook] = field(default_factory=dict)  # by path
    catalogue: str | None = None  # the catalogue's version


def look_at_sticks(client, target) -> StickLook | Failed:
    """The worker's part of Look: the scan, then each batch's manifest."""
    scanned = client.scan()
    if not isinstance(scanned, Scanned) or target is None:
        return scanned
    batches = [batch for stick in scanned.sticks for batch in stick.batches]
    return StickLook(scanned, look_into(target, batches), target.current_version())


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
        self._looks: dict[str, BatchLook] = {}
        self._failure: Failure | None = None
        self._installed: Installed | None = None
        self._installing: str | None = None
        self._applying: str | None = None  # the batch's name on the stick
        self._applied: BatchApplied | None = None
        self._catalogue: str | None = None  # the catalogue version when last looked
        self.bind(state=self._refresh, lang=self._refresh, translator=self._refresh,
                  width=self._refresh)

    def tr(self, msgid: str, **args) -> str:
        return self.translate(self.lang, msgid, **args)

    def translate(self, lang: str, msgid: str, **args) -> str:
        return self.translator.tr(lang, msgid, **args) if self.translator else msgid

    # --- what staff press -----------------------------------------------------------------

    def look(self) -> None:
        if self.state in BUSY_STATES:
            return
        self._scanned = self._failure = None
        self._looks = {}
        self.state = UsbState.LOOKING
        self._refresh()
        target = self.batch_target
        self.worker.submit(lambda client, _progress: look_at_sticks(client, target),
                           self._looked)

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
        self.worker.submit(lambda _client, progress: apply_elsewhere(target, batch.path,
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
        if isinstance(reply, StickLook):
            self._scanned, self._looks, self._catalogue = (reply.scanned, reply.batches,
                                                           reply.catalogue)
            self.state = UsbState.CHOOSE
        elif isinstance(reply, Scanned):
            self._scanned, self._catalogue = reply, None
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
            self._failure = refusal(reply)
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
        if state is UsbState.APPLYING:
            return self.tr(APPLYING, name=self._applying or "?")
        if state is UsbState.APPLIED and self._applied is not None:
            return applied_in_both(self.translate, self.lang, self._applied)
        if state is UsbState.FAILED and self._failure:
            return failure_in_both(self.translate, self.lang, self._failure, self._catalogue)
        scanned = self._scanned
        if scanned is None:  # CHOOSE comes with what was scanned
            return ""
        running = scanned.running_version or "?"
        if any(s.batches for s in scanned.sticks) and self.batch_target is not None:
            message = self.tr(CHOOSE_ANY, running=running,
                              current=self._catalogue or self.tr(NO_CATALOGUE))
            first = self._first_to_apply()
            if any(look.standing is Standing.LATER for look in self._looks.values()) and first:
                message += "\n" + self.tr(SEVERAL_NEWER, first=first)
            return message
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
                # Every key a batch's row sets: the list reuses one row's widget for another.
                rows.append({"name": bundle.name, "file": bundle.name, "detail": detail,
                             "standing": "", "height": row_height(),
                             "can_install": bundle.problem is None,
                             "button_text": self.tr(INSTALL),
                             "install": lambda b=bundle: self.install(b.path, b.version)})
            rows += [self._batch_row(batch) for batch in stick.batches]
        return rows

    def _batch_row(self, batch: Batch) -> dict:
        """The manifest's name and titles, the file on the stick, and how it stands."""
        look = self._looks.get(batch.path)
        kind = self.tr(BATCH_FOLDER if batch.folder else BATCH_TAR)
        size = self.tr(SIZE_MB, size=f"{batch.size / 1e6:.1f}")
        detail = f"{kind} {batch.name}, {size}"
        standing, can_apply = "", self.batch_target is not None
        if look is not None:
            if look.batch is not None:
                detail = f"{self.tr(TITLES, titles=look.titles)} — {detail}"
            standing = self.tr(STANDINGS[look.standing], current=self._catalogue or "",
                               first=self._first_to_apply() or "?",
                               why=in_language(self.lang, look.why))
            can_apply = can_apply and look.standing in CAN_APPLY
        text_width = self.width - 24 - (BUTTON_WIDTH + 8 if can_apply else 0) - 12
        return {"name": look.batch if look and look.batch else batch.name, "file": batch.name,
                "detail": detail, "standing": standing,
                "height": batch_row_height(standing, text_width) if standing else row_height(),
                "button_text": self.tr(APPLY), "can_install": can_apply,
                "install": lambda: self.apply(batch)}

    def _first_to_apply(self) -> str | None:
        return next((look.batch for look in self._looks.values()
                     if look.standing is Standing.NEWER), None)
