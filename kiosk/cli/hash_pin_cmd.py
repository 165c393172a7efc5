"""`kiosk hash-pin`: makes the salted hash for [admin] pin_hash from a PIN typed twice.

A hash cannot tell how long its PIN is, and a 4-digit PIN falls to a copied hash in minutes:
PINs shorter than six digits are refused unless --short says the technician means it.
"""

from __future__ import annotations

import getpass
import sys

from kiosk.cli.words import _
from kiosk.core.pin import MIN_DIGITS, hash_pin


def register(subparsers, common) -> None:
    p = subparsers.add_parser("hash-pin", parents=[common],
                              help=_("print a pin_hash for kiosk.toml from a staff PIN"))
    p.add_argument("--stdin", action="store_true", help=_("read the PIN from standard input"))
    p.add_argument("--short", action="store_true",
                   help=_("accept a PIN of fewer than {digits} digits (quick to guess from a "
                          "copy of the hash; not advised)", digits=MIN_DIGITS))
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        if args.stdin:
            pin = sys.stdin.readline().strip()
            again = pin
        else:
            pin = getpass.getpass(_("Staff PIN (digits): "))
            again = getpass.getpass(_("Again: "))
    except EOFError:  # no terminal, and standard input ended
        print("kiosk: " + _("no PIN was typed (standard input ended); pipe one in with --stdin"),
              file=sys.stderr)
        return 1
    if pin != again:
        print("kiosk: " + _("the two PINs differ; nothing printed"), file=sys.stderr)
        return 1
    # isascii: '²' and '１' pass isdigit(), but the PIN pad types only 0-9.
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        print("kiosk: " + _("a staff PIN is 4 to 12 digits (the PIN pad has digits only)"),
              file=sys.stderr)
        return 1
    if len(pin) < MIN_DIGITS:
        if not args.short:
            print("kiosk: " + _("a staff PIN of {digits} digits is quick to guess from a copy of "
                                "its hash; use at least {least} digits (or --short to accept it "
                                "anyway); nothing printed", digits=len(pin), least=MIN_DIGITS),
                  file=sys.stderr)
            return 1
        print("kiosk: " + _("warning: a PIN of {digits} digits is quick to guess from a copy of "
                            "its hash; keep the config file where only the kiosk can read it",
                            digits=len(pin)), file=sys.stderr)
    print(f'pin_hash = "{hash_pin(pin)}"')
    return 0
