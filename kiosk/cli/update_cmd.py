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
from kiosk.cli.words import _
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
        print(f"kiosk update: {e}")
        return 0
    except RaucError as e:
        print(f"kiosk update: {e}: is rauc-service installed and running? "
              "(systemctl status rauc)", file=sys.stderr)
        return 1
    print(format_view(view))
    pulled = _delivery(args)
    if pulled is not None:
        print(f"from server: {describe_delivery(delivery.as_running(pulled, view.version))}")
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
        line = (f"{version} downloading, {done / MB:.1f} of {status.total_bytes / MB:.1f} MB "
                f"({100 * done // status.total_bytes}%)")
        return line + (f": {status.why}" if status.why else "") + when
    return f"{version} {status.state}" + (f": {status.why}" if status.why else "") + when


def format_view(view: SystemView) -> str:
    built = f", built {view.release.build}" if view.release and view.release.build else ""
    lines = [f"this slot:   {view.slot or '?'}: kiosk system {view.version or 'unknown'}{built}"
             f" ({_boot(view.booted)})",
             f"other slot:  {_other(view.other)}"]
    lines.append(f"last update: {describe(view)}")
    return "\n".join(lines)


def describe(view: SystemView) -> str:
    other = view.other
    other_name = other.bootname if other else "?"
    if view.state is UpdateState.FELL_BACK:
        failed = (other.bundle_version if other else None) or "the update"
        return (f"FELL BACK: {failed} installed into slot "
                f"{other_name} did not get ready on its trial boot, so the kiosk came back to "
                f"slot {view.slot} by itself. See why on the other slot's boot (journalctl "
                f"--list-boots), fix the bundle, then install a new one")
    if view.state is UpdateState.TRIAL:
        return (f"on trial: slot {view.slot} is kept once kiosk.service is ready; if it is not, "
                f"the kiosk falls back to slot {other_name} (kiosk-update-confirm.service)")
    if view.booted is not None and view.booted.installed_at is not None:
        return (f"ok: {view.booted.bundle_version or '?'} installed "
                f"{view.booted.installed_at:%Y-%m-%d %H:%M} UTC and kept")
    return "ok: none installed since the card was flashed"


def _boot(slot: Slot | None) -> str:
    if slot is None or slot.boot_good is None:
        return "boot state unknown"
    return "good" if slot.boot_good else "not yet marked good"


def _other(slot: Slot | None) -> str:
    if slot is None:
        return "none"
    if slot.installed_at is None:
        return f"{slot.bootname}: nothing installed by an update (empty, or as flashed)"
    health = {True: "good", False: "bad", None: "boot state unknown"}[slot.boot_good]
    return (f"{slot.bootname}: {slot.bundle_version or '?'}, installed "
            f"{slot.installed_at:%Y-%m-%d %H:%M} UTC, {health}")


def run_install(args, runner: Runner | None = None, paths: UpdatePaths = UpdatePaths(),
                older_mark: Path = downgrade.ALLOW_OLDER) -> int:
    runner = runner or partial(commands.run, timeout_s=INSTALL_TIMEOUT_S)
    if not paths.from_image:
        print(f"kiosk update: {NotFromImage()}", file=sys.stderr)
        return 1
    allow_older = getattr(args, "allow_older", False)
    if allow_older and os.geteuid() != 0:
        print("kiosk update: --allow-older is for root: run it with sudo", file=sys.stderr)
        return 1
    if not allow_older:
        # RAUC's pre-install handler refuses it too, but RAUC tells only "handler error".
        refused = _not_installable(Path(args.bundle), runner, paths)
        if refused:
            print(f"kiosk update: {refused}\nkiosk update: nothing changed: this slot stays as "
                  "it is", file=sys.stderr)
            return 1
    print(f"kiosk update: installing {args.bundle} into the other slot (a few minutes)...")
    if allow_older:
        print("kiosk update: --allow-older: the version check is off for this install only")
        with downgrade.allowing_older(older_mark):
            result = runner(list(rauc.install_argv(args.bundle)))
    else:
        result = runner(list(rauc.install_argv(args.bundle)))
    if not result.ok:
        print(f"kiosk update: rauc could not install {args.bundle}: "
              f"{rauc.install_failure(result)}\n"
              "kiosk update: nothing changed: this slot stays as it is", file=sys.stderr)
        return 1
    try:
        view = state.gather(runner, paths)
    except RaucError as e:
        print(f"kiosk update: installed, but {e}")
        view = None
    target = view.other if view else None
    version = target.bundle_version if target and target.bundle_version else "the update"
    where = f"slot {target.bootname}" if target else "the other slot"
    back = f"slot {view.slot} ({view.version})" if view else "this slot"
    print(f"kiosk update: {version} is installed into {where}. Next: reboot (systemctl reboot); "
          f"it starts on trial and is kept once the kiosk is in service within "
          f"{confirm.DEFAULT_DEADLINE_S:g} s; otherwise the kiosk falls back to {back} by "
          f"itself. Then: kiosk update status")
    return 0


def _not_installable(bundle: Path, runner: Runner, paths: UpdatePaths) -> str | None:
    """Why `bundle` is not installed (not a bundle for this kiosk, or older than it), or None."""
    version, why = rauc.bundle_version(bundle, runner)
    if version is None:
        return f"rauc cannot read {bundle}: {why}"
    running = kiosk_release.read_release(paths.release)
    return downgrade.refusal(version, running.version if running else None, allowed=False)


def run_confirm(args, runner: Runner = commands.run, paths: UpdatePaths = UpdatePaths()) -> int:
    if not paths.from_image:
        print(f"kiosk update: nothing to confirm: {NotFromImage()}")
        return 0
    outcome = confirm.confirm(runner, args.within)
    print(f"kiosk update: {outcome}")
    return 0 if outcome is confirm.Outcome.MARKED_GOOD else 1


def run_pull(args) -> int:
    from kiosk.update.pull import Pull  # requests loads here, not for every subcommand

    result = Pull(load_config(args)).run()
    print(f"kiosk update pull: {result.message}")
    return 1 if result.failed else 0


def run_apply(args) -> int:
    from kiosk.update.apply import Apply

    result = Apply(load_config(args)).run()
    print(f"kiosk update apply-downloaded: {result.message}")
    return 1 if result.failed else 0
