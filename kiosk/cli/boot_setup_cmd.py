"""`kiosk boot-setup`: apply the SD card's boot folder at boot (kiosk-firstboot.service, root).

Exit status 0 whenever the report is written, problems or not (the kiosk shows them, out of
service); 1 when the report cannot be written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kiosk import boot_report
from kiosk.bootsetup.paths import BootPaths
from kiosk.bootsetup.run import run as run_boot_setup
from kiosk.cli.words import _

WRITABLE = {"yes": True, "no": False, "auto": None}


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "boot-setup", parents=[common],
        help=_("as root at boot: apply kiosk.toml, central.token, wifi.toml and authorized_keys "
               "from the boot folder, set hostname and time servers, grow the data partition"),
        description=_("Run as root at every boot (kiosk-firstboot.service). --config names the "
                      "base config instead of /etc/kiosk/kiosk.toml; the boot folder's kiosk.toml "
                      "is still checked over it. Exit status 0 with or without problems (they are "
                      "in the report), 1 when the report cannot be written."))
    p.add_argument("--boot-dir", metavar="DIR", type=Path,
                   help=_("the boot folder (default: /boot/firmware, else /boot)"))
    p.add_argument("--report", metavar="PATH", type=Path, default=boot_report.REPORT_PATH,
                   help=_("where the report goes (default: {path})", path=boot_report.REPORT_PATH))
    p.add_argument("--root-fs-writable", choices=tuple(WRITABLE), default="auto",
                   help=_("whether /etc may be written (default: auto, asks the file system)"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    paths = BootPaths()
    if args.config:  # the base config; the boot folder's kiosk.toml still goes over it
        paths = BootPaths(base_config=Path(args.config))
    report = run_boot_setup(paths, boot_dir=args.boot_dir,
                            root_writable=WRITABLE[args.root_fs_writable])
    try:
        boot_report.write(report, args.report)
    except OSError as e:
        print("kiosk boot-setup: " + _("cannot write the report {path}: {why}", path=args.report,
                                       why=e.strerror), file=sys.stderr)
        return 1
    print("boot-setup: " + _("{changes} change(s), {problems} problem(s); report in {path}",
                             changes=len(report.applied), problems=len(report.problems),
                             path=args.report))
    return 0
