"""`kiosk host-keys`: the kiosk's SSH host keys in /data/ssh, made when missing, and their
fingerprints printed (kiosk-ssh-host-keys.service, as root, before ssh.service; and
`./setup.sh install`, which moves a PC's keys there). Exit status 1 when sshd has no host key.
"""

from __future__ import annotations

import argparse

from kiosk import commands
from kiosk.bootsetup import host_keys
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from kiosk.cli.words import _


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "host-keys", parents=[common],
        help=_("as root at boot: make the SSH host keys in /data/ssh when missing; print their "
               "fingerprints"),
        description=_("Keys found in /etc/ssh (a PC install) are copied to /data/ssh, others made "
                      "(ed25519, RSA); /etc/ssh's copies are then removed."))
    p.add_argument("--keep-etc", action="store_true",
                   help=_("leave /etc/ssh's keys in place (a running sshd still reads them)"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = host_keys.ensure(BootPaths(), commands.run, Outcome(), keep_etc=args.keep_etc)
    for fingerprint in found:
        print(_("SSH host key {fingerprint} ({path})", fingerprint=fingerprint,
                path=fingerprint.path))
    if not found:
        print("kiosk host-keys: " + _("no SSH host key: sshd cannot start (see the lines above)"))
        return 1
    return 0
