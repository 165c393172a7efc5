"""`kiosk data-layout`: /data's folders with their owners and modes (kiosk-data-layout.service,
as root, after /data is mounted and before /data/kiosk is bound at /var/lib/kiosk; and
`./setup.sh install`). Exit status 1 when a folder cannot be made: the bind mount then fails
visibly instead of showing an empty folder.
"""

from __future__ import annotations

import argparse

from kiosk.bootsetup import data_layout
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from kiosk.cli.words import _


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "data-layout", parents=[common],
        help=_("as root at boot: make /data's folders (kiosk, ssh, rauc) with their owners"),
        description=_("Makes /data's folders: kiosk/ (the kiosk user's, bound at /var/lib/kiosk; "
                      "only when /data is a mounted partition), ssh/ and rauc/ (root's). Files "
                      "left at the partition's top by the layout before /data go into kiosk/."))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return 0 if data_layout.apply(BootPaths(), Outcome()) else 1
