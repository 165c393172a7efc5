"""`kiosk content ...`: staff's monthly e-book batch, from their folder to every kiosk.

    keygen PRIVATE PUBLIC          once: the library's signing key pair
    sample SRC [--count N]         a sample source folder (the demo's catalogue)
    build SRC OUT --key PRIVATE    folder of books + metadata sheet -> signed batch (.tar or folder)
    sign BATCH --key PRIVATE       re-sign a batch folder whose manifest was edited by hand
    verify BATCH [--allow-older]   check a batch against this kiosk's public key and catalogue
    apply BATCH [--allow-older]    check, then switch the catalogue to include it
    rollback                       back to the catalogue before the last apply
    pull                           in [updates] window: apply the batches the central server
                                   publishes, newer than the catalogue's, oldest first
    list [--json]                  the versions kept, which is current, unfinished leftovers
"""

from __future__ import annotations

import dataclasses
import json

from kiosk.cli import arg_types
from kiosk.cli.common import load_config
from kiosk.cli.words import _, pad, width

MAX_SAMPLE = 100_000  # titles in a sample source: the demo uses 2,000, a load test a few 10,000s


def register(subparsers, common) -> None:
    p = subparsers.add_parser("content", parents=[common],
                              help=_("build, sign, check and apply e-book batches"))
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    keygen = sub.add_parser("keygen", parents=[common], help=_("make the signing key pair"))
    keygen.add_argument("private", type=arg_types.path,
                        help=_("where the private key goes (keep it off the kiosks)"))
    keygen.add_argument("public", type=arg_types.path,
                        help=_("where the public key goes (copied to every kiosk)"))
    keygen.set_defaults(func=run_keygen)

    sample = sub.add_parser("sample", parents=[common], help=_("write a sample source folder"))
    sample.add_argument("src", type=arg_types.path, help=_("the source folder to write"))
    sample.add_argument("--count", type=arg_types.whole(1, MAX_SAMPLE), default=2000,
                        help=_("how many titles (default: %(default)s)"))
    sample.add_argument("--seed", type=int, default=1,
                        help=_("the same seed makes the same titles (default: %(default)s)"))
    sample.set_defaults(func=run_sample)

    build = sub.add_parser("build", parents=[common], help=_("make a signed batch from a folder"))
    build.add_argument("src", type=arg_types.path,
                       help=_("the staff's folder: books, covers and the metadata sheet"))
    build.add_argument("out", type=arg_types.path, help=_("OUT.tar, or a folder name"))
    build.add_argument("--key", type=arg_types.path, required=True,
                       help=_("the private signing key"))
    build.add_argument("--batch", help=_("its name, e.g. 2026-12 (default: this month)"))
    build.set_defaults(func=run_build)

    sign = sub.add_parser("sign", parents=[common], help=_("sign a batch folder's manifest again"))
    sign.add_argument("batch", type=arg_types.path, help=_("the batch folder"))
    sign.add_argument("--key", type=arg_types.path, required=True,
                      help=_("the private signing key"))
    sign.set_defaults(func=run_sign)

    for name, func, text in (("verify", run_verify, _("check a batch, change nothing")),
                             ("apply", run_apply, _("check a batch and apply it"))):
        command = sub.add_parser(name, parents=[common], help=text)
        command.add_argument("batch", type=arg_types.path, help=_("a batch folder or .tar"))
        command.add_argument("--public-key", type=arg_types.path,
                             help=_("default: [ebooks] batch_public_key of the config"))
        command.add_argument("--verbose", action="store_true", help=_("list the titles' ids"))
        command.add_argument("--allow-older", action="store_true",
                             help=_("accept a batch older than the catalogue's (it turns titles "
                                    "back; `rollback` is the usual way back)"))
        command.set_defaults(func=func)

    pull = sub.add_parser("pull", parents=[common],
                          help=_("inside [updates] window: download and apply the batches the "
                                 "central server publishes (kiosk-pull.service runs it)"))
    pull.set_defaults(func=run_pull)

    rollback = sub.add_parser("rollback", parents=[common], help=_("undo the last apply"))
    rollback.set_defaults(func=run_rollback)

    listing = sub.add_parser("list", parents=[common], help=_("the catalogue versions kept"))
    listing.add_argument("--json", action="store_true", help=_("machine-readable output"))
    listing.set_defaults(func=run_list)


def run_keygen(args) -> int:
    from content.signing import keygen
    keygen(args.private, args.public)
    print(f"签名密钥已生成 / Key pair made: {args.private} (keep it secret, off the kiosks), "
          f"{args.public} (copy it to every kiosk)")
    return 0


def run_sample(args) -> int:
    from content.sample import make_sample_source
    make_sample_source(args.src, count=args.count, seed=args.seed)
    print(f"样例书目已生成 / Sample source of {args.count} titles written to {args.src}")
    return 0


def run_build(args) -> int:
    from content.build import build_batch
    report = build_batch(args.src, args.out, args.key, args.batch)
    print(f"批次 {report.batch} 已生成 / Batch {report.batch} built: {report.out}\n"
          f"  {report.sheet}：新增 {report.added}，更新 {report.updated}，下架 "
          f"{report.withdrawn}；封面取自书内 {report.covers_from_books}，绘制 "
          f"{report.covers_drawn}\n"
          f"  {report.added} added, {report.updated} updated, {report.withdrawn} withdrawn; "
          f"covers from the books {report.covers_from_books}, drawn {report.covers_drawn}")
    if report.warnings:
        print(f"\n注意（{len(report.warnings)} 条，批次照常生成）/ Warnings (the batch was built "
              "all the same):")
        for warning in report.warnings:
            print("  " + warning.replace("\n", "\n  "))
    return 0


def run_sign(args) -> int:
    from content.signing import sign
    print(f"已签名 / Signed: {sign(args.batch / 'manifest.json', args.key)}")
    return 0


def run_verify(args) -> int:
    from content.store import CatalogueStore
    config = load_config(args)
    store = CatalogueStore(config.catalogue_dir)
    report = store.check(args.batch, args.public_key or config.batch_public_key_path,
                         allow_older=args.allow_older)
    print(f"批次 {report.batch} 检查通过 / Batch {report.batch} is good: would add "
          f"{len(report.added)}, update {len(report.updated)}, withdraw {len(report.withdrawn)}")
    _ids(args, report)
    return 0


def run_apply(args) -> int:
    from content.store import CatalogueStore
    config = load_config(args)
    store = CatalogueStore(config.catalogue_dir)
    report = store.apply(args.batch, args.public_key or config.batch_public_key_path,
                         allow_older=args.allow_older)
    print(f"已应用 {report.batch}: 新增 {len(report.added)}, 更新 {len(report.updated)}, "
          f"下架 {len(report.withdrawn)} / Applied {report.batch} as {report.version}: "
          f"{len(report.added)} added, {len(report.updated)} updated, "
          f"{len(report.withdrawn)} withdrawn")
    _ids(args, report)
    return 0


def _ids(args, report) -> None:
    if args.verbose:
        for action in ("added", "updated", "withdrawn"):
            ids = getattr(report, action)
            print(f"  {action}: {' '.join(ids) if ids else '-'}")


def run_pull(args) -> int:
    from kiosk.content_pull import CataloguePull  # requests loads here, not for every action

    result = CataloguePull(load_config(args)).run()
    print(f"kiosk content pull: {result.message}")
    return 1 if result.failed else 0


def run_rollback(args) -> int:
    from content.store import CatalogueStore
    config = load_config(args)
    version = CatalogueStore(config.catalogue_dir).rollback()
    print(f"已回退 / Rolled back: the catalogue is now {version}")
    return 0


def run_list(args) -> int:
    from content.store import CatalogueStore
    config = load_config(args)
    store = CatalogueStore(config.catalogue_dir)
    versions, leftovers = store.versions(), store.leftovers()
    if args.json:
        print(json.dumps({"versions": [dataclasses.asdict(v) for v in versions],
                          "leftovers": leftovers}, ensure_ascii=False, indent=1))
        return 0
    if not versions:
        print(_("no catalogue yet in {folder}: apply a batch", folder=config.catalogue_dir))
    marks = (_("current"), _("previous"))
    columns = max(map(width, marks))
    for v in versions:
        mark = marks[0] if v.current else marks[1] if v.previous else ""
        print(pad(mark, columns) + " " + _(
            "{name} batch {batch} {titles} titles  applied {when}", name=f"{v.name:<20}",
            batch=f"{v.batch:<10}", titles=f"{v.titles:>6}", when=v.applied_at))
    for name in leftovers:
        print(f"未完成 / unfinished {name}: left by an apply that was cut off; removed at the "
              "next apply or the kiosk app's next start")
    return 0
