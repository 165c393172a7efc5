"""`kiosk sip2 status|patron|item|checkout|checkin|renew|serve`: talk to the ILS by hand.

Each command connects with the kiosk's `[ils]` settings, does one thing and prints one JSON
document: the fields the kiosk uses, and with `--raw` the messages sent and received
(passwords and PINs replaced), also when the command fails. Text that looks like another
charset than `[ils] charset` is named on stderr and under "warnings". `serve` runs the
shipped test ILS for technicians and tests.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import threading
from datetime import date

from kiosk.cli import arg_types
from kiosk.cli.common import load_config
from kiosk.cli.words import _
from kiosk.errors import KioskError
from kiosk.i18n import N_
from kiosk.sip2.charset_guess import advice
from kiosk.sip2.client import IlsSettings, Sip2Client
from kiosk.sip2.errors import IlsError
from kiosk.sip2.settings import CHARSETS
from kiosk.sip2.standin_ils import PinCheck
from kiosk.sip2.standin_server import IDLE_TIMEOUT_S


def register(subparsers, common) -> None:
    p = subparsers.add_parser("sip2", parents=[common],
                              help=_("talk to the library system (ILS) over SIP2 by hand"))
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    def command(name: str, help_text: str):
        parser = sub.add_parser(name, parents=[common], help=help_text)
        parser.add_argument("--raw", action="store_true",
                            help=_("also print the SIP2 messages sent and received"))
        return parser

    command("status", help_text=_("log in and ask SC status (what the ILS allows)")).set_defaults(
        func=run_status)
    patron = command("patron", help_text=_("a patron's name, blocks, loans and holds"))
    patron.add_argument("patron_id", type=arg_types.text(N_("patron number")),
                        help=_("the number on the library card"))
    patron.add_argument("--pin", help=_("the patron's PIN, to check it"))
    patron.set_defaults(func=run_patron)
    item = command("item", help_text=_("an item's title, state and due date"))
    item.add_argument("item_id", type=arg_types.text(N_("item barcode")),
                      help=_("the item's barcode"))
    item.set_defaults(func=run_item)
    checkout = command("checkout", help_text=_("lend an item to a patron (changes the ILS!)"))
    checkout.add_argument("patron_id", type=arg_types.text(N_("patron number")),
                          help=_("the number on the library card"))
    checkout.add_argument("item_id", type=arg_types.text(N_("item barcode")),
                          help=_("the item's barcode"))
    checkout.add_argument("--pin", help=_("the patron's PIN, when the ILS wants it"))
    checkout.add_argument("--no-block", action="store_true",
                          help=_("SIP2 no-block: the ILS must accept it (offline replays)"))
    checkout.set_defaults(func=run_checkout)
    checkin = command("checkin", help_text=_("return an item (changes the ILS!)"))
    checkin.add_argument("item_id", type=arg_types.text(N_("item barcode")),
                         help=_("the item's barcode"))
    checkin.add_argument("--no-block", action="store_true",
                         help=_("SIP2 no-block: the ILS must accept it (offline replays)"))
    checkin.set_defaults(func=run_checkin)
    renew = command("renew", help_text=_("renew a patron's loan (changes the ILS!)"))
    renew.add_argument("patron_id", type=arg_types.text(N_("patron number")),
                       help=_("the number on the library card"))
    renew.add_argument("item_id", type=arg_types.text(N_("item barcode")),
                       help=_("the item's barcode"))
    renew.add_argument("--pin", help=_("the patron's PIN, when the ILS wants it"))
    renew.set_defaults(func=run_renew)

    serve = sub.add_parser("serve", parents=[common],
                           help=_("run the test ILS on this computer until Ctrl-C"))
    serve.add_argument("--data", required=True, metavar="FILE", type=arg_types.path,
                       help=_("the library: patrons, items, loans (like kiosk/demo/ils.toml)"))
    serve.add_argument("--host", default="127.0.0.1",
                       help=_("address to listen on (default: %(default)s, this computer only)"))
    serve.add_argument("--port", type=arg_types.port, default=6001,
                       help=_("TCP port, 0 to 65535; 0 picks a free port (default: %(default)s)"))
    serve.add_argument("--charset", choices=CHARSETS, default="utf-8",
                       help=_("how text is encoded on the wire, as the ILS would (default: "
                              "%(default)s)"))
    serve.add_argument("--lenient", action="store_true",
                       help=_("accept messages without checksums and malformed fields"))
    serve.add_argument("--no-blank-dates", action="store_true",
                       help=_("refuse 18 blanks as a due date (answer 96), as strict servers do"))
    serve.add_argument("--pin-check", choices=[mode.value for mode in PinCheck],
                       default=PinCheck.WHEN_SENT.value,
                       help=_("when patron replies carry CQ (PIN valid): only when the request "
                              "has a PIN, as SIPServer does (default), or always"))
    serve.add_argument("--renumber-resends", action="store_true",
                       help=_("answer a resend request (97) with the last reply numbered AY0, "
                              "as SIPServer does"))
    serve.add_argument("--idle-timeout", type=arg_types.seconds(0.1, 86400.0),
                       default=IDLE_TIMEOUT_S, metavar="SECONDS",
                       help=_("close a connection idle this long (many servers: 60)"))
    serve.set_defaults(func=run_serve)


def _client(args) -> Sip2Client:
    return Sip2Client(IlsSettings.from_config(load_config(args)))


def _run(args, operation) -> int:
    client = _client(args)
    try:
        client.connect()
        result = operation(client)
    except IlsError as e:
        if args.raw:  # what went over the wire is what a technician needs most now
            print(json.dumps({"type": "error", "error": str(e), "raw": list(client.transcript)},
                             ensure_ascii=False, indent=2))
        raise
    finally:
        client.close()
    shown = _as_json(result, args.raw)
    if client.charset_hint:
        warning = advice(client.charset_hint)
        shown["warnings"] = [warning]
        print("kiosk: " + _("warning: ") + warning, file=sys.stderr)
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0 if getattr(result, "ok", True) else 1


def run_status(args) -> int:
    return _run(args, lambda client: client.last_status)


def run_patron(args) -> int:
    return _run(args, lambda client: client.patron(args.patron_id, args.pin))


def run_item(args) -> int:
    return _run(args, lambda client: client.item(args.item_id))


def run_checkout(args) -> int:
    return _run(args, lambda client: client.checkout(args.patron_id, args.item_id, args.pin,
                                                     no_block=args.no_block))


def run_checkin(args) -> int:
    return _run(args, lambda client: client.checkin(args.item_id, no_block=args.no_block))


def run_renew(args) -> int:
    return _run(args, lambda client: client.renew(args.patron_id, args.item_id, args.pin))


def _as_json(result, raw: bool) -> dict:
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if not raw:
        fields.pop("raw")
    for key, value in fields.items():
        if isinstance(value, frozenset):
            fields[key] = sorted(value)
        elif isinstance(value, date):
            fields[key] = value.isoformat()
        elif isinstance(value, tuple):
            fields[key] = list(value)
    return {"type": type(result).__name__, **fields}


def run_serve(args) -> int:
    from kiosk.sip2.standin_data import IlsData
    from kiosk.sip2.standin_server import Sip2TestServer

    server = Sip2TestServer(IlsData.load(args.data), args.host, args.port, charset=args.charset,
                            strict=not args.lenient, blank_dates_ok=not args.no_blank_dates,
                            pin_check=PinCheck(args.pin_check),
                            renumber_resends=args.renumber_resends,
                            idle_timeout_s=args.idle_timeout)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server.start()
    except OSError as e:  # the port is taken, or the address is not this computer's
        server.stop()
        raise KioskError(_("the test ILS cannot listen on {address}: {why}",
                           address=f"{args.host}:{args.port}", why=e.strerror or e)) from None
    with server:  # started already; stopped on the way out
        host, port = server.address
        print(json.dumps({"listening": f"{host}:{port}", "login": list(server.login or ()),
                          "patrons": len(server.data.patrons), "items": len(server.data.items)},
                         ensure_ascii=False), flush=True)
        stop.wait()
    print("kiosk: " + _("test ILS stopped"), file=sys.stderr)
    return 0
