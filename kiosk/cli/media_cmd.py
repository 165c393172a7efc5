"""`kiosk media scan | install NAME`: the admin screen's USB stick update, from a shell (as user
kiosk, over SSH; the lead's QEMU test). Talks to kiosk-media.socket through the same client as
the screen; the helper (root) mounts and installs. Scan also lists the e-book batches, each
read and placed against the catalogue as on the screen (applying one is the screen's job: the
stick is unmounted when scan ends)."""

from __future__ import annotations

import sys

from kiosk.cli.common import load_config
from kiosk.cli.words import _
from kiosk.i18n import N_
from kiosk.media.batch_apply import BatchLook, BatchTarget, Standing, look_into
from kiosk.media.client import MediaClient
from kiosk.media.protocol import Batch, Bundle, Failed, Installed, Progress, Scanned

SYSTEM = "system"  # the ReleaseKind of a RAUC bundle


def register(subparsers, common) -> None:
    p = subparsers.add_parser("media", parents=[common],
                              help=_("update bundles and e-book batches on a USB stick (as on "
                                     "the admin screen)"))
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = actions.add_parser("scan", parents=[common],
                           help=_("mount the USB sticks read-only and list what is on them"))
    s.set_defaults(func=run_scan)
    i = actions.add_parser("install", parents=[common],
                           help=_("install a bundle that scan listed (then reboot to try it)"))
    i.add_argument("name", metavar="NAME", help=_("the bundle's file name, as scan printed it"))
    i.set_defaults(func=run_install)


def run_scan(args, client: MediaClient | None = None) -> int:
    config = load_config(args)
    target = BatchTarget(config.catalogue_dir, config.batch_public_key_path)
    with client or MediaClient() as media:
        scanned = media.scan()
        if isinstance(scanned, Failed):
            return _failed(scanned)
        # Read while the stick is still mounted: it is unmounted when the connection ends.
        looks = look_into(target, [b for stick in scanned.sticks for b in stick.batches])
        print(format_scan(scanned, looks, target.current_version()))
    return 0


def format_scan(scanned: Scanned, looks: dict[str, BatchLook] | None = None,
                catalogue: str | None = None) -> str:
    lines = [_("running system: {version}", version=scanned.running_version or _("unknown")),
             _("e-book catalogue: {version}", version=catalogue or _("none yet"))]
    looks = looks or {}
    for stick in scanned.sticks:
        lines.append(_("{device} ({label}), mounted read-only at {path}:", device=stick.device,
                       label=stick.label or _("no label"), path=stick.mount_point))
        lines += [f"  {_row(bundle)}" for bundle in stick.bundles]
        lines += [f"  {_batch_row(batch, looks.get(batch.path), looks)}"
                  for batch in stick.batches]
        others = len(stick.files) - len(stick.bundles) - len(stick.batches)
        if not stick.bundles:
            lines.append("  " + _("no update bundle (*.raucb) at the top level"))
        if others > 0:
            lines.append("  " + _("and {count} other file(s)", count=others))
    lines += [_("cannot mount {why}", why=why) for why in scanned.unmountable]
    return "\n".join(lines)


def _row(bundle: Bundle) -> str:
    verdict = _("installable") if bundle.problem is None else f"{bundle.problem}: {bundle.why}"
    return (f"{bundle.name}  {SYSTEM}  {bundle.version or '?'}  "
            f"{bundle.size / 1e6:.0f} MB  {verdict}")


def _batch_row(batch: Batch, look: BatchLook | None, looks: dict[str, BatchLook]) -> str:
    kind = _("e-book batch (folder)") if batch.folder else _("e-book batch")
    name = look.batch if look and look.batch else "?"
    titles = _("{count} titles", count=look.titles) + "  " if look and look.batch else ""
    verdict = _verdict(look, looks) if look else _("not read")
    return f"{batch.name}  {kind}  {name}  {titles}{batch.size / 1e6:.1f} MB  {verdict}"


def _verdict(look: BatchLook, looks: dict[str, BatchLook]) -> str:
    first = next((other.batch for other in looks.values()
                  if other.standing is Standing.NEWER), None)
    words = {
        Standing.NEWER: N_("newer: apply it on the admin screen"),
        Standing.LATER: N_("newer, after {first}: apply that one first"),
        Standing.CURRENT: N_("already applied"),
        Standing.OLDER: N_("older than the catalogue: only with kiosk content apply "
                           "--allow-older"),
        Standing.UNREADABLE: N_("cannot be read: {why}"),
        Standing.NOT_READ: N_("not read ({why}): the admin screen checks it when applied"),
    }
    return _(words[look.standing], first=first, why=look.why)


def run_install(args, client: MediaClient | None = None) -> int:
    with client or MediaClient() as media:
        scanned = media.scan()
        if isinstance(scanned, Failed):
            return _failed(scanned)
        found = [b for s in scanned.sticks for b in s.bundles if args.name in (b.name, b.path)]
        if not found:
            names = ", ".join(b.name for s in scanned.sticks for b in s.bundles) or _("none")
            print("kiosk media: " + _("no bundle {name} on the stick (found: {names})",
                                      name=args.name, names=names), file=sys.stderr)
            return 1
        bundle = found[0]
        print("kiosk media: " + _("installing {name} ({version}) into the other slot; do not "
                                  "pull the stick", name=bundle.name,
                                  version=bundle.version or "?"))
        done = media.install(bundle.path, _print_progress)
        if isinstance(done, Failed):
            return _failed(done)
        assert isinstance(done, Installed)
        print("kiosk media: " + _("{version} is installed. Next: reboot (systemctl reboot) to "
                                  "try it; it is kept once the kiosk is in service, else the "
                                  "kiosk falls back by itself. Then: kiosk update status",
                                  version=done.version or bundle.name))
    return 0


def _print_progress(step: Progress) -> None:
    percent = f"{step.percent:3d}% " if step.percent is not None else "     "
    print(f"{percent}{step.message}", flush=True)


def _failed(failed: Failed) -> int:
    print("kiosk media: " + _("refused ({problem}): {why}", problem=failed.problem,
                              why=failed.why), file=sys.stderr)
    return 1
