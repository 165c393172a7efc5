"""`kiosk-central`: runs the central server and manages it (kiosks and their tokens, staff
accounts, system updates and e-book batches for kiosks to fetch, reports). Runs on the main
thread; `serve` hands it to uvicorn.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import re
import sys
from pathlib import Path

from central import __version__, accounts, audit, count_batches, gc_tuning, reports, title_report
from central import config as config_mod
from central.audit import AuditAction
from central.auth import hash_password, new_token, token_digest
from central.errors import CentralConfigError, CentralError, NotFound, ReleaseRefused
from central.figures import Selection, gather
from central.i18n import LANGUAGES, Translator
from central.releases import Release, ReleaseKind, Releases
from central.storage import ROLES, Storage
from common import logsetup

KIOSK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 8


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH",
                        help=f"config file (default: {config_mod.DEFAULT_PATH} if it exists)")
    common.add_argument("--db", metavar="URL",
                        help="sqlite:///path/central.sqlite3 or postgresql://user@host/db "
                             "(overrides the config's db)")
    common.add_argument("--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    parser = argparse.ArgumentParser(prog="kiosk-central",
                                     description="The library kiosks' central server")
    parser.add_argument("--version", action="version", version=f"kiosk-central {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", parents=[common], help="run the server")
    serve.add_argument("--host", help="address to listen on (overrides the config)")
    serve.add_argument("--port", type=int, help="port (overrides the config)")
    serve.set_defaults(func=run_serve)

    kiosk = sub.add_parser("kiosk", help="kiosks and their tokens")
    actions = kiosk.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", parents=[common], help="add a kiosk; prints its token once")
    add.add_argument("name", help="the kiosk's id, as in its [kiosk] id")
    add.add_argument("--library", required=True)
    add.add_argument("--service-point", default="",
                     help="where it stands, e.g. 借阅台 (the report's rows)")
    add.set_defaults(func=run_kiosk_add)
    listing = actions.add_parser("list", parents=[common], help="every kiosk")
    listing.set_defaults(func=run_kiosk_list)
    revoke = actions.add_parser("revoke", parents=[common],
                                help="refuse the kiosk's token from now on")
    revoke.add_argument("name")
    revoke.set_defaults(func=run_kiosk_revoke)
    rotate = actions.add_parser("rotate", parents=[common],
                                help="a new token for the kiosk, printed once; the old one "
                                     "stops working, the kiosk keeps its id and history "
                                     "(a revoked kiosk is back in service)")
    rotate.add_argument("name")
    rotate.set_defaults(func=run_kiosk_rotate)

    user = sub.add_parser("user", help="staff accounts for the web pages")
    user_actions = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_add = user_actions.add_parser(
        "add", parents=[common], help="add an account; the password is asked for, or read "
                                      "from standard input")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=ROLES)
    user_add.add_argument("--library", required=True,
                          help="the library whose kiosks a staff account sees")
    user_add.set_defaults(func=run_user_add)
    user_list = user_actions.add_parser("list", parents=[common], help="every account")
    user_list.set_defaults(func=run_user_list)
    for action, func, text in (
            ("disable", run_user_disable, "the account can no longer sign in; its sessions "
                                          "end now"),
            ("enable", run_user_enable, "the account can sign in again"),
            ("remove", run_user_remove, "delete the account (its audit entries stay); its "
                                        "sessions end now"),
            ("passwd", run_user_passwd, "a new password, asked for or read from standard "
                                        "input; the account's sessions end now")):
        changed = user_actions.add_parser(action, parents=[common], help=text)
        changed.add_argument("name")
        changed.set_defaults(func=func)

    audit_log = sub.add_parser("audit", parents=[common],
                               help="the audit log, newest first: sign-ins, accounts, kiosk "
                                    "tokens, releases")
    audit_log.add_argument("--limit", type=int, default=50, metavar="N",
                           help="at most N entries (default 50)")
    audit_log.add_argument("--actor", metavar="NAME",
                           help='only what NAME did (a user, or "(command line) root")')
    audit_log.add_argument("--action", choices=[a.value for a in AuditAction],
                           metavar="ACTION", help="only this action: "
                                                  + ", ".join(a.value for a in AuditAction))
    audit_log.set_defaults(func=run_audit)

    release = sub.add_parser("release", help="update bundles for kiosks to fetch")
    release_actions = release.add_subparsers(dest="action", required=True, metavar="ACTION")
    publish = release_actions.add_parser(
        "publish", parents=[common], help="publish a file once; kiosks of the libraries fetch "
                                          "it in their update window")
    publish.add_argument("file", type=Path, metavar="FILE",
                         help="a RAUC bundle (.raucb), or an e-book batch (.tar)")
    publish.add_argument("--kind", required=True, choices=[k.value for k in ReleaseKind],
                         help="system: a RAUC bundle; catalogue: an e-book batch (kiosk-central "
                              "batch publish says it shorter)")
    _publish_options(publish, run_release_publish)
    release_list = release_actions.add_parser("list", parents=[common],
                                              help="every release, newest first")
    release_list.set_defaults(func=run_release_list, kinds=tuple(ReleaseKind))
    release_withdraw = release_actions.add_parser(
        "withdraw", parents=[common], help="kiosks stop fetching it; the release before it "
                                           "becomes current again")
    release_withdraw.add_argument("id", type=int, metavar="ID")
    release_withdraw.set_defaults(func=run_release_withdraw, kinds=tuple(ReleaseKind))

    batch = sub.add_parser("batch", help="e-book batches for kiosks to fetch and apply")
    batch_actions = batch.add_subparsers(dest="action", required=True, metavar="ACTION")
    batch_publish = batch_actions.add_parser(
        "publish", parents=[common], help="publish a signed batch once; kiosks of the "
                                          "libraries fetch and apply it in their window")
    batch_publish.add_argument("file", type=Path, metavar="BATCH.tar",
                               help="a batch made by kiosk content build (.tar)")
    _publish_options(batch_publish, run_release_publish, kind=ReleaseKind.CATALOGUE.value)
    batch_list = batch_actions.add_parser("list", parents=[common],
                                          help="every batch, newest first")
    batch_list.set_defaults(func=run_release_list, kinds=(ReleaseKind.CATALOGUE,))
    batch_withdraw = batch_actions.add_parser(
        "withdraw", parents=[common], help="kiosks stop fetching it; kiosks that applied it "
                                           "keep it until the next batch")
    batch_withdraw.add_argument("id", type=int, metavar="ID")
    batch_withdraw.set_defaults(func=run_release_withdraw, kinds=(ReleaseKind.CATALOGUE,))

    batch_remove = batch_actions.add_parser(
        "remove", parents=[common], help="not here: kiosk-central counts remove takes out a "
                                         "batch of counts")
    batch_remove.add_argument("id", metavar="ID")
    batch_remove.set_defaults(func=run_batch_remove)

    counts = sub.add_parser("counts", help="the batches of counts kiosks uploaded")
    counts_actions = counts.add_subparsers(dest="action", required=True, metavar="ACTION")
    counts_list = counts_actions.add_parser("list", parents=[common],
                                            help="the newest batches first")
    counts_list.add_argument("--kiosk", metavar="NAME", help="only this kiosk's")
    counts_list.add_argument("--limit", type=int, default=100, metavar="N",
                             help="at most N batches (default 100)")
    counts_list.set_defaults(func=run_counts_list)
    counts_remove = counts_actions.add_parser(
        "remove", parents=[common], help="take a wrong batch's counts out of the figures "
                                         "(the kiosk does not send them again)")
    counts_remove.add_argument("batch_id", metavar="BATCH_ID")
    counts_remove.set_defaults(func=run_counts_remove)

    report = sub.add_parser("report", parents=[common],
                            help="a staff report as CSV or .xlsx: the statistics table for a "
                                 "period (figures), or the titles report for a month (titles)")
    report.add_argument("what", nargs="?", choices=("figures", "titles"), default="figures",
                        help="figures (default): needs --from and --to; titles: licences "
                             "ending within 30 days, a month's most viewed and downloaded")
    report.add_argument("--from", dest="first", type=_day, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="last", type=_day, metavar="YYYY-MM-DD")
    report.add_argument("--month", type=_month, metavar="YYYY-MM",
                        help="titles: the month of the most viewed and downloaded "
                             "(default: last month, the last whole one)")
    report.add_argument("--library", help="only this library's kiosks")
    report.add_argument("--kiosk", action="append", default=[], metavar="NAME",
                        help="only these kiosks (repeat the option for several)")
    report.add_argument("--format", choices=("csv", "xlsx"),
                        help="default: xlsx for a FILE ending in .xlsx, else csv")
    report.add_argument("--lang", choices=LANGUAGES, default=LANGUAGES[0])
    report.add_argument("-o", "--output", required=True, type=Path, metavar="FILE")
    report.set_defaults(func=run_report)
    _db_commands(sub)
    return parser


def _publish_options(parser: argparse.ArgumentParser, func, **defaults: str) -> None:
    """Who a release is for and who publishes it: `release publish` and `batch publish`."""
    audience = parser.add_mutually_exclusive_group(required=True)
    audience.add_argument("--library", action="append", default=[], metavar="NAME",
                          help="for this library's kiosks (repeat the option for several)")
    audience.add_argument("--all-libraries", action="store_true",
                          help="for every kiosk, of every library")
    parser.add_argument("--by", default=_login_name(),
                        help="who publishes, shown in the list (default: your login name)")
    parser.set_defaults(func=func, **defaults)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logsetup.configure(args.log_level)
    try:
        return args.func(args)
    except ReleaseRefused as e:  # staff publish: Chinese first, then the English detail
        chinese = Translator().tr(LANGUAGES[0], e.msgid, **e.msg_args)
        print(f"kiosk-central: {chinese} / {e}", file=sys.stderr)
        return 2
    except CentralError as e:
        print(f"kiosk-central: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _config(args: argparse.Namespace, **overrides) -> config_mod.CentralConfig:
    return config_mod.load(args.config, db=args.db, **overrides)


def _storage(args: argparse.Namespace) -> Storage:
    return Storage.open(_config(args).db_url)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from central.app import create_app
    config = _config(args, host=args.host, port=args.port)
    storage = Storage.open(config.db_url)
    app = create_app(config, storage)
    gc_tuning.tune()
    try:
        uvicorn.run(app, host=config.host, port=config.port, log_config=None,
                    # X-Forwarded-* are read by the app itself, from `trusted_proxies` only.
                    server_header=False, proxy_headers=False)
    finally:
        storage.close()
    return 0



def run_kiosk_add(args: argparse.Namespace) -> int:
    if not KIOSK_NAME.match(args.name):
        raise CentralConfigError(f"kiosk name {args.name!r}: letters, digits, '.', '_' and "
                                 "'-', at most 64, as in the kiosk's [kiosk] id")
    token = new_token()
    _storage(args).add_kiosk(args.name, args.library, args.service_point, token_digest(token),
                             actor=_actor())
    print(f"kiosk {args.name} added ({args.library}"
          f"{' / ' + args.service_point if args.service_point else ''}). Its token, shown "
          "only now:", file=sys.stderr)
    print(token)
    print("Put it in the kiosk's token file ([central] token_path, mode 0600).",
          file=sys.stderr)
    return 0


def run_kiosk_list(args: argparse.Namespace) -> int:
    kiosks = _storage(args).kiosks()
    if not kiosks:
        print("no kiosks yet", file=sys.stderr)
    for k in kiosks:
        state = f"revoked {k.revoked_utc[:10]}" if k.revoked_utc else "active"
        print(f"{k.id}\t{k.library}\t{k.service_point or '-'}\tadded {k.created_utc[:10]}"
              f"\t{state}")
    return 0


def run_kiosk_revoke(args: argparse.Namespace) -> int:
    _storage(args).revoke_kiosk(args.name, actor=_actor())
    print(f"kiosk {args.name}: token revoked; its counts stay in the figures", file=sys.stderr)
    return 0


def run_user_add(args: argparse.Namespace) -> int:
    password = _read_password(args.name)
    _storage(args).add_user(args.name, args.role, args.library, hash_password(password),
                            actor=_actor())
    print(f"user {args.name} added ({args.role}, {args.library})", file=sys.stderr)
    return 0


def _read_password(name: str) -> str:
    """From a prompt, or the first line of standard input; never from the command line,
    where other users see it in the process list."""
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            raise CentralConfigError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise CentralConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    return password


def _actor() -> str:
    """Who made a change from the command line, as the audit log names them."""
    return f"{audit.CLI} {_login_name()}"


def run_user_list(args: argparse.Namespace) -> int:
    found = accounts.accounts(_storage(args).db)
    if not found:
        print("no accounts yet: kiosk-central user add NAME --role admin --library ...",
              file=sys.stderr)
    for a in found:
        state = f"disabled {a.disabled_utc[:10]}" if a.disabled_utc else "active"
        print(f"{a.name}\t{a.role}\t{a.library}\tadded {a.created_utc[:10]}\t{state}"
              f"\t{a.sessions} sessions")
    return 0


def run_user_disable(args: argparse.Namespace) -> int:
    ended = accounts.disable(_storage(args).db, args.name, _actor())
    print(f"user {args.name} disabled; {ended} sessions ended", file=sys.stderr)
    return 0


def run_user_enable(args: argparse.Namespace) -> int:
    accounts.enable(_storage(args).db, args.name, _actor())
    print(f"user {args.name} enabled", file=sys.stderr)
    return 0


def run_user_remove(args: argparse.Namespace) -> int:
    ended = accounts.remove(_storage(args).db, args.name, _actor())
    print(f"user {args.name} removed; {ended} sessions ended", file=sys.stderr)
    return 0


def run_user_passwd(args: argparse.Namespace) -> int:
    db = _storage(args).db
    if args.name not in {a.name for a in accounts.accounts(db)}:
        raise NotFound(f"no user named {args.name!r}")  # before asking for a password
    ended = accounts.set_password(db, args.name, hash_password(_read_password(args.name)),
                                  _actor())
    print(f"user {args.name}: password changed; {ended} sessions ended", file=sys.stderr)
    return 0


def run_kiosk_rotate(args: argparse.Namespace) -> int:
    token = new_token()
    was_revoked = accounts.rotate_kiosk_token(_storage(args).db, args.name,
                                              token_digest(token), _actor())
    print(f"kiosk {args.name}: new token{' (back in service)' if was_revoked else ''}; the "
          "old one no longer works. The new token, shown only now:", file=sys.stderr)
    print(token)
    print("Put it in the kiosk's token file ([central] token_path, mode 0600).",
          file=sys.stderr)
    return 0


def run_audit(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise CentralConfigError("--limit must be at least 1")
    with _storage(args).db.read() as conn:
        found = audit.entries(conn, limit=args.limit, actor=args.actor,
                              action=AuditAction(args.action) if args.action else None)
    if not found:
        print("no audit entries" + (" match" if args.actor or args.action else " yet"),
              file=sys.stderr)
    for e in found:
        detail = json.dumps(e.detail, ensure_ascii=False, sort_keys=True) if e.detail else "-"
        print(f"{e.at_utc[:19]}Z\t{e.actor}\t{e.action}\t{e.subject or '-'}"
              f"\t{e.address or '-'}\t{detail}")
    return 0


def _releases(args: argparse.Namespace) -> tuple[Releases, config_mod.CentralConfig]:
    config = _config(args)
    return Releases(Storage.open(config.db_url).db, config.releases_path), config


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "command line"


def _audience(release: Release) -> str:
    return "all libraries" if release.all_libraries else ", ".join(release.libraries)


def _named(release: Release) -> str:
    """'system 0.2.0', or 'catalogue 2026-12 (40 titles)'."""
    titles = f" ({release.titles} titles)" if release.titles is not None else ""
    return f"{release.kind} {release.version}{titles}"


def run_release_publish(args: argparse.Namespace) -> int:
    releases, config = _releases(args)
    try:
        source = open(args.file, "rb")
    except OSError as e:
        raise CentralConfigError(f"cannot read {args.file}: {e.strerror}") from None
    with source:
        staged = releases.stage_copy(source, config.max_release_mb * 2**20)
    release = releases.publish(staged, ReleaseKind(args.kind), args.library,
                               args.all_libraries, args.by, audit.Change(_actor()))
    print(f"release {release.id} published: {_named(release)} for "
          f"{_audience(release)}, {release.size:,} bytes, sha256 {release.sha256}",
          file=sys.stderr)
    print(f"Kiosks fetch it in their update window; `kiosk-central {args.command} withdraw "
          f"{release.id}` takes it back.", file=sys.stderr)
    return 0


def run_release_list(args: argparse.Namespace) -> int:
    releases, _config_ = _releases(args)
    found = [r for r in releases.all() if r.kind in args.kinds]
    current = releases.current_for()
    if not found:
        print("nothing published yet: kiosk-central batch publish BATCH.tar --library NAME, "
              "or kiosk-central release publish FILE --kind system ...", file=sys.stderr)
    for r in found:
        state = (f"withdrawn {r.withdrawn_at[:16]}" if r.withdrawn_at
                 else f"current for {', '.join(current[r.id])}" if r.id in current
                 else "superseded" if r.kind == ReleaseKind.SYSTEM
                 else "live")  # kiosks behind still apply older live batches
        titles = "" if r.titles is None else f"{r.titles} titles\t"
        print(f"{r.id}\t{r.kind}\t{r.version}\t{titles}{r.size}\t{r.sha256[:12]}"
              f"\t{_audience(r)}\t{r.published_at[:16]}\t{r.published_by}\t{state}")
    return 0


def run_release_withdraw(args: argparse.Namespace) -> int:
    releases, _config_ = _releases(args)
    found = releases.get(args.id)
    if found is not None and found.kind not in args.kinds:
        raise NotFound(f"release {args.id} is a {found.kind} release, not an e-book batch: "
                       f"kiosk-central release withdraw {args.id} withdraws it")
    release = releases.withdraw(args.id, audit.Change(_actor()))
    print(f"release {release.id} ({release.kind} {release.version}) withdrawn; its file is "
          "deleted", file=sys.stderr)
    libraries = releases.libraries() if release.all_libraries else release.libraries
    for library in libraries:
        now = releases.current(release.kind, library)
        print(f"  kiosks of {library} now get "
              f"{f'release {now.id} ({now.version})' if now else f'no {release.kind} release'}",
              file=sys.stderr)
    return 0


def run_batch_remove(args: argparse.Namespace) -> int:
    raise CentralConfigError("`batch` is for e-book batches: a batch of counts a kiosk "
                             "uploaded is removed with kiosk-central counts remove BATCH_ID "
                             "(kiosk-central counts list shows them); an e-book batch is "
                             f"taken back with kiosk-central batch withdraw {args.id}")


def run_counts_list(args: argparse.Namespace) -> int:
    found = count_batches.listing(_storage(args).db, args.kiosk, args.limit)
    if not found:
        print("no batches of counts" + (f" from {args.kiosk}" if args.kiosk else ""),
              file=sys.stderr)
    for b in found:
        n = "?" if b.n is None else str(b.n)  # accepted before each batch's counts were kept
        state = f"removed {b.removed_utc[:16]} by {b.removed_by}" if b.removed_utc else "counted"
        print(f"{b.batch_id}\t{b.kiosk_id}\trows {b.first_seq}-{b.last_seq}\t{b.counts} counts"
              f"\tn {n}\treceived {b.received_utc[:16]}\t{state}")
    return 0


def run_counts_remove(args: argparse.Namespace) -> int:
    removed = count_batches.remove(_storage(args).db, args.batch_id,
                                   f"{audit.CLI} {_login_name()}")
    print(f"batch {removed.batch_id} of kiosk {removed.kiosk_id} removed: {removed.n} taken "
          f"out of the figures ({removed.counts} counts, journal rows {removed.first_seq}-"
          f"{removed.last_seq}). The kiosk does not send those rows again.", file=sys.stderr)
    return 0


def run_report(args: argparse.Namespace) -> int:
    if args.what == "figures" and (args.first is None or args.last is None):
        raise CentralConfigError("the figures report needs --from and --to")
    if args.first and args.last and args.first > args.last:
        raise CentralConfigError("--from is after --to")
    storage = _storage(args)
    kiosks = storage.kiosks()
    chosen = [k for k in kiosks if (not args.library or k.library == args.library)
              and (not args.kiosk or k.id in args.kiosk)]
    unknown = sorted(set(args.kiosk) - {k.id for k in kiosks})
    if unknown:
        raise CentralConfigError(f"no kiosk named {', '.join(unknown)}")
    if args.library and args.library not in {k.library for k in kiosks}:
        raise CentralConfigError(f"no library named {args.library} (kiosk-central kiosk list "
                                 "shows each kiosk's library)")
    tables: reports.ReportTable | list[reports.ReportTable]
    if args.what == "titles":
        found = title_report.gather(storage, chosen, dt.date.today(),
                                    args.month or title_report.Month.last_whole(dt.date.today()))
        tables = title_report.tables(found, Translator(), args.lang)
        summary = (f"{len(found.ending)} licences ending by {found.ending_by}, the "
                   f"{len(found.most_viewed)} most viewed and {len(found.most_downloaded)} "
                   f"most downloaded titles of {found.month.name}")
        if found.undated_kiosks:
            summary += (f"; no licence dates from {', '.join(found.undated_kiosks)} "
                        "(older kiosk software)")
    else:
        figures = gather(storage, Selection(args.first, args.last,
                                            tuple(k.id for k in chosen)), kiosks)
        tables = reports.table(figures, Translator(), args.lang)
        total = figures.total
        summary = (f"{len(figures.points)} service points, {total.sessions} kiosk sessions, "
                   f"{total.loans} loans, {total.returns} returns, {total.renewals} renewals")
        old = sum(f.n for f in figures.old_replays)
        if old:
            summary += (f"; {old} offline transactions replayed by older kiosks, counted as "
                        "neither loans nor returns")
    try:
        if (args.format or ("xlsx" if args.output.suffix == ".xlsx" else "csv")) == "csv":
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                reports.write_csv(tables, out)
        else:
            reports.write_xlsx(tables, args.output)
    except OSError as e:
        raise CentralConfigError(f"cannot write {args.output}: {e.strerror}") from None
    print(f"{args.output}: {summary}", file=sys.stderr)
    return 0


def _db_commands(sub: argparse._SubParsersAction) -> None:
    """`db copy`: a whole database into an empty other (docs/central.md, SQLite to PostgreSQL)."""
    db = sub.add_parser("db", help="the server's database as a whole")
    db_actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_copy = db_actions.add_parser(
        "copy", help="copy every table into an empty database in one pass, and check the row "
                     "counts (stop the server first)")
    db_copy.add_argument("--from", dest="source", required=True, metavar="URL",
                         help="sqlite:///var/lib/kiosk-central/central.sqlite3, or postgresql://...")
    db_copy.add_argument("--to", dest="target", required=True, metavar="URL",
                         help="an empty database: postgresql://user@host/db, or sqlite:///...")
    db_copy.add_argument("--log-level", default="INFO",
                         choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    db_copy.set_defaults(func=run_db_copy)


def run_db_copy(args: argparse.Namespace) -> int:
    from central import db_copy

    copied = db_copy.copy(args.source, args.target, progress=lambda t: print(
        f"{t.name}\t{t.rows} rows", file=sys.stderr))
    print(f"copied {sum(t.rows for t in copied)} rows in {len(copied)} tables; the row counts "
          "match. Set db to the --to URL in the config and start the server.",
          file=sys.stderr)
    return 0


def _month(text: str) -> title_report.Month:
    try:
        return title_report.Month.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-06-30") from None


if __name__ == "__main__":
    sys.exit(main())
