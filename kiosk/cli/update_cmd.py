"""`kiosk update status | install BUNDLE | confirm | pull | apply-downloaded`: a kiosk flashed
from the SD-card image updated with RAUC bundles (kiosk.update), by hand or from the central
server (kiosk-pull.service runs pull, then apply-downloaded as root). On a kiosk
installed with `./setup.sh install` each says so and how to update it instead."""

from __future__ import annotations

import os
import sys
from functools import partial
from pathlib import Path

from kiosk import commands
from kiosk import config as config_module
from kiosk.cli import arg_types
from kiosk.cli.common import load_config
from kiosk.cli.words import _, error_text, pad, spoken, width
from kiosk.commands import Runner
from kiosk.delivery import status as delivery
from kiosk.delivery.releases import ReleaseKind
from kiosk.delivery.space import MB
from kiosk.delivery.status import DeliveryState, DeliveryStatus
from kiosk.errors import KioskError
from kiosk.update import confirm, downgrade, rauc, state
from kiosk.update import release as kiosk_release
from kiosk.update.rauc import RaucError, Slot
from kiosk.update.state import NotFromImage, SystemView, UpdatePaths, UpdateState

INSTALL_TIMEOUT_S = 3600.0  # a 1 GB slot written to a slow SD card


def register(subparsers, common) -> None:
    p = subparsers.add_parser("update", parents=[common],
                              help=_("the system's slots and version; install an update bundle"))
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = actions.add_parser("status", parents=[common],
                           help=_("this slot, its version, the other slot, the last update"))
    s.set_defaults(func=run_status)
    i = actions.add_parser("install", parents=[common],
                           help=_("install a bundle into the other slot (then reboot to try it)"))
    i.add_argument("bundle", metavar="BUNDLE", help=_("a kiosk-<version>-arm64.raucb file"))
    i.add_argument("--allow-older", action="store_true",
                   help=_("install it even when it is older than this system (root only; "
                          "RAUC's pre-install handler refuses older bundles otherwise)"))
    i.set_defaults(func=run_install)
    c = actions.add_parser("confirm", parents=[common],
                           help=_("keep this slot once the kiosk is in service, else fall back "
                                  "(kiosk-update-confirm.service runs it at boot)"))
    c.add_argument("--within", type=arg_types.seconds(1.0, 86400.0),
                   default=confirm.DEFAULT_DEADLINE_S, metavar="SECONDS",
                   help=_("how long kiosk.service has to get ready (default %(default)g)"))
    c.set_defaults(func=run_confirm)
    pl = actions.add_parser("pull", parents=[common],
                            help=_("inside [updates] window: download the system update the "
                                   "central server publishes, when newer (as the kiosk user)"))
    pl.set_defaults(func=run_pull)
    a = actions.add_parser("apply-downloaded", parents=[common],
                           help=_("install what pull downloaded and restart into it once nobody "
                                  "uses the kiosk, inside the window (as root)"))
    a.set_defaults(func=run_apply)


def run_status(args, runner: Runner = commands.run, paths: UpdatePaths = UpdatePaths()) -> int:
    try:
        view = state.gather(runner, paths)
    except NotFromImage as e:
        print(f"kiosk update: {error_text(e)}")
        return 0
    except RaucError as e:
        print("kiosk update: " + _("{error}: is rauc-service installed and running? "
                                   "(systemctl status rauc)", error=error_text(e)), file=sys.stderr)
        return 1
    print(format_view(view))
    pulled = _delivery(args)
    if pulled is not None:
        print(_("from server: {delivery}",
                delivery=describe_delivery(delivery.as_running(pulled, view.version))))
    return 1 if view.state is UpdateState.FELL_BACK else 0


def _delivery(args) -> DeliveryStatus | None:
    """The last pull's status, when the config can be read (it names the data folder)."""
    try:
        config = config_module.load(getattr(args, "config", None))
    except KioskError:
        return None
    return delivery.read(config.data_dir, ReleaseKind.SYSTEM)


def describe_delivery(status: DeliveryStatus) -> str:
    """The delivery line: what the pull from the central server did last, and when."""
    version = status.version or "-"
    when = f" ({status.at})" if status.at else ""
    if status.state is DeliveryState.DOWNLOADING and status.total_bytes:
        done = status.done_bytes or 0
        line = _("{version} downloading, {done} of {total} MB ({percent}%)", version=version,
                 done=f"{done / MB:.1f}", total=f"{status.total_bytes / MB:.1f}",
                 percent=100 * done // status.total_bytes)
        return line + (f": {status.why}" if status.why else "") + when
    return f"{version} {status.state}" + (f": {status.why}" if status.why else "") + when


def format_view(view: SystemView) -> str:
    built = (_(", built {build}", build=view.release.build)
             if view.release and view.release.build else "")
    labels = [_("this slot:"), _("other slot:"), _("last update:")]
    columns = max(map(width, labels)) + 1
    this = _("{slot}: kiosk system {version}{built} ({boot})", slot=view.slot or "?",
             version=view.version or _("unknown"), built=built, boot=_boot(view.booted))
    return "\n".join(pad(label, columns) + text
                     for label, text in zip(labels, (this, _other(view.other), describe(view)),
                                            strict=True))


def describe(view: SystemView) -> str:
    other = view.other
    other_name = other.bootname if other else "?"
    if view.state is UpdateState.FELL_BACK:
        failed = (other.bundle_version if other else None) or _("the update")
        return _("FELL BACK: {failed} installed into slot {other} did not get ready on its trial "
                 "boot, so the kiosk came back to slot {slot} by itself. See why on the other "
                 "slot's boot (journalctl --list-boots), fix the bundle, then install a new one",
                 failed=failed, other=other_name, slot=view.slot)
    if view.state is UpdateState.TRIAL:
        return _("on trial: slot {slot} is kept once kiosk.service is ready; if it is not, the "
                 "kiosk falls back to slot {other} (kiosk-update-confirm.service)",
                 slot=view.slot, other=other_name)
    if view.booted is not None and view.booted.installed_at is not None:
        return _("ok: {version} installed {when} UTC and kept",
                 version=view.booted.bundle_version or "?",
                 when=f"{view.booted.installed_at:%Y-%m-%d %H:%M}")
    return _("ok: none installed since the card was flashed")


def _boot(slot: Slot | None) -> str:
    if slot is None or slot.boot_good is None:
        return _("boot state unknown")
    return _("good") if slot.boot_good else _("not yet marked good")


def _other(slot: Slot | None) -> str:
    if slot is None:
        return _("none")
    if slot.installed_at is None:
        return _("{slot}: nothing installed by an update (empty, or as flashed)",
                 slot=slot.bootname)
    health = {True: _("good"), False: _("bad"), None: _("boot state unknown")}[slot.boot_good]
    return _("{slot}: {version}, installed {when} UTC, {health}", slot=slot.bootname,
             version=slot.bundle_version or "?", when=f"{slot.installed_at:%Y-%m-%d %H:%M}",
             health=health)


def run_install(args, runner: Runner | None = None, paths: UpdatePaths = UpdatePaths(),
                older_mark: Path = downgrade.ALLOW_OLDER) -> int:
    runner = runner or partial(commands.run, timeout_s=INSTALL_TIMEOUT_S)
    if not paths.from_image:
        print(f"kiosk update: {error_text(NotFromImage())}", file=sys.stderr)
        return 1
    allow_older = getattr(args, "allow_older", False)
    if allow_older and os.geteuid() != 0:
        print("kiosk update: " + _("--allow-older is for root: run it with sudo"),
              file=sys.stderr)
        return 1
    if not allow_older:
        # RAUC's pre-install handler refuses it too, but RAUC tells only "handler error".
        refused = _not_installable(Path(args.bundle), runner, paths)
        if refused:
            print(f"kiosk update: {refused}\nkiosk update: "
                  + _("nothing changed: this slot stays as it is"), file=sys.stderr)
            return 1
    print("kiosk update: " + _("installing {bundle} into the other slot (a few minutes)...",
                               bundle=args.bundle))
    if allow_older:
        print("kiosk update: " + _("--allow-older: the version check is off for this install "
                                   "only"))
        with downgrade.allowing_older(older_mark):
            result = runner(list(rauc.install_argv(args.bundle)))
    else:
        result = runner(list(rauc.install_argv(args.bundle)))
    if not result.ok:
        print("kiosk update: " + _("rauc could not install {bundle}: {why}", bundle=args.bundle,
                                   why=rauc.install_failure(result))
              + "\nkiosk update: " + _("nothing changed: this slot stays as it is"),
              file=sys.stderr)
        return 1
    try:
        view = state.gather(runner, paths)
    except RaucError as e:
        print("kiosk update: " + _("installed, but {error}", error=e))
        view = None
    target = view.other if view else None
    version = target.bundle_version if target and target.bundle_version else _("the update")
    where = _("slot {slot}", slot=target.bootname) if target else _("the other slot")
    back = (_("slot {slot} ({version})", slot=view.slot, version=view.version) if view
            else _("this slot"))
    print("kiosk update: " + _("{version} is installed into {where}. Next: reboot (systemctl "
                               "reboot); it starts on trial and is kept once the kiosk is in "
                               "service within {seconds} s; otherwise the kiosk falls back to "
                               "{back} by itself. Then: kiosk update status", version=version,
                               where=where, seconds=f"{confirm.DEFAULT_DEADLINE_S:g}",
                               back=back))
    return 0


def _not_installable(bundle: Path, runner: Runner, paths: UpdatePaths) -> str | None:
    """Why `bundle` is not installed (not a bundle for this kiosk, or older than it), or None."""
    version, why = rauc.bundle_version(bundle, runner)
    if version is None:
        return _("rauc cannot read {bundle}: {why}", bundle=bundle, why=why)
    running = kiosk_release.read_release(paths.release)
    return downgrade.refusal(version, running.version if running else None, allowed=False)


def run_confirm(args, runner: Runner = commands.run, paths: UpdatePaths = UpdatePaths()) -> int:
    if not paths.from_image:
        print("kiosk update: " + _("nothing to confirm: {why}", why=error_text(NotFromImage())))
        return 0
    outcome = confirm.confirm(runner, args.within)
    print(f"kiosk update: {outcome}")
    return 0 if outcome is confirm.Outcome.MARKED_GOOD else 1


def run_pull(args) -> int:
    from kiosk.update.pull import Pull  # requests loads here, not for every subcommand

    result = Pull(load_config(args)).run()
    print(f"kiosk update pull: {spoken(result.message)}")
    return 1 if result.failed else 0


def run_apply(args) -> int:
    from kiosk.update.apply import Apply

    result = Apply(load_config(args)).run()
    print(f"kiosk update apply-downloaded: {spoken(result.message)}")
    return 1 if result.failed else 0
