"""`kiosk` entry point: parses the command line, sets up logging, runs one subcommand.

Each subcommand lives in its own module with `register(subparsers, common)`, which adds a parser
whose `func(args) -> int` does the work; `common` carries the options every subcommand has.
"""

from __future__ import annotations

import argparse
import sys

from kiosk import __version__, logsetup
from kiosk.cli import (boot_setup_cmd, content_cmd, data_layout_cmd, devices_cmd, doctor_cmd,
                       hash_pin_cmd, host_keys_cmd, journal_cmd, media_cmd, out_of_service_cmd,
                       run_cmd, sip2_cmd, update_cmd, upload_cmd)
from kiosk.errors import KioskError

SUBCOMMANDS = (run_cmd, journal_cmd, devices_cmd, content_cmd, doctor_cmd, hash_pin_cmd,
               sip2_cmd, upload_cmd, boot_setup_cmd, out_of_service_cmd, data_layout_cmd,
               host_keys_cmd, update_cmd, media_cmd)


def build_parser() -> argparse.ArgumentParser:
    # The options every subcommand has, accepted before the subcommand too. A subcommand's own
    # default must not undo one given before it: SUPPRESS leaves the first value standing.
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="kiosk", description="Library self-service kiosk")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    _common_options(parser, default=None)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers, common)
    return parser


def _common_options(parser: argparse.ArgumentParser, *, default) -> None:
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="config file (default: /etc/kiosk/kiosk.toml with the boot "
                             "partition's kiosk.toml over it)")
    parser.add_argument("--log-level", default=default,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help="overrides [logging] level")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logsetup.configure(args.log_level or "INFO")
    try:
        return args.func(args)
    except KioskError as e:
        # Our own errors are for people: one clear line, no traceback.
        print(f"kiosk: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
