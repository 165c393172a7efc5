"""`kiosk upload [--dry-run] [--heartbeat-only] [--json]`: counts and a heartbeat to the central
server, as the systemd timer runs it every 15 minutes. Exit status 1 when a request failed."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from kiosk.cli.common import load_config
from kiosk.cli.words import _, pad, width


def register(subparsers, common) -> None:
    p = subparsers.add_parser("upload", parents=[common],
                              help=_("send unsent journal rows as counts, and a heartbeat"))
    p.add_argument("--dry-run", action="store_true",
                   help=_("print exactly what would be sent; send nothing, change nothing"))
    p.add_argument("--heartbeat-only", action="store_true", help=_("send only the heartbeat"))
    p.add_argument("--json", action="store_true", help=_("machine-readable output"))
    p.set_defaults(func=run)


def run(args) -> int:
    # Here, not at the top: requests would slow every other subcommand's start, `kiosk run`'s too.
    from kiosk.upload.run import dry_run, upload

    config = load_config(args)
    if not config.central.url:
        print("kiosk upload: " + _("no [central] url set; nothing to send"), file=sys.stderr)
        return 0
    if args.dry_run:
        report = dry_run(config, heartbeat_only=args.heartbeat_only)
        if args.json:
            print(json.dumps([asdict(r) for r in report.requests], ensure_ascii=False, indent=2))
        else:
            for request in report.requests:
                print(f"{request.method} {request.url}")
                print(json.dumps(request.body, ensure_ascii=False, indent=2))
        return 0
    report = upload(config, heartbeat_only=args.heartbeat_only)
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        print(format_report(report))
    return 1 if report.error else 0


def format_report(report) -> str:
    """A `kiosk.upload.run.RunReport` for people."""
    if report.busy:
        return _("another upload is running; nothing done")
    rows = sum(b.rows for b in report.batches)
    again = sum(1 for b in report.batches if b.duplicate)
    batches = len(report.batches)
    sent = (_("{batches} ({rows} rows; {again} the server already had)", batches=batches,
              rows=rows, again=again) if again
            else _("{batches} ({rows} rows)", batches=batches, rows=rows))
    lines = [(_("batches sent"), sent), (_("not uploaded"), str(report.unsent_rows)),
             (_("heartbeat"), _("sent") if report.heartbeat_sent else _("not sent"))]
    if report.catalogue_sent:
        lines.append((_("catalogue"), _("{count} sent", count=report.catalogue_sent)))
    if report.error:
        lines.append((_("error"), str(report.error)))
    columns = max(width(label) for label, _value in lines) + 1
    return "\n".join(pad(label, columns) + value for label, value in lines)
