"""`kiosk` entry point: parses the command line, sets up logging, runs one subcommand.

Each subcommand lives in its own module with `register(subparsers, common)`, which adds a parser
whose `func(args) -> int` does the work; `common` carries the options every subcommand has.
"""

from __future__ import annotations

import argparse
import os
import select
import sys
from importlib import import_module

from common import logsetup
from kiosk import __version__
from kiosk.cli import arg_types, words
from kiosk.cli.words import _
from kiosk.errors import KioskError

# Each subcommand's name and its module (kiosk.cli.<module>), in the order --help lists them. A
# command line naming one loads that module alone: `kiosk run` starts the app without the
# others' imports (the batch store, TLS, the journal export...), in time and in memory.
SUBCOMMANDS = {
    "run": "run_cmd", "journal": "journal_cmd", "devices": "devices_cmd",
    "content": "content_cmd", "doctor": "doctor_cmd", "hash-pin": "hash_pin_cmd",
    "sip2": "sip2_cmd", "upload": "upload_cmd", "boot-setup": "boot_setup_cmd",
    "out-of-service": "out_of_service_cmd", "data-layout": "data_layout_cmd",
    "host-keys": "host_keys_cmd", "update": "update_cmd", "media": "media_cmd",
}
VALUED_OPTIONS = ("--config", "--log-level")  # the common options that take a value


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every subcommand's, or with `argv` naming one, that one's
    alone (--help, no subcommand or an unknown one: all of them, to list or to refuse)."""
    words.speak_to_argparse()  # before any parser: its "options" title is asked for at creation
    # The options every subcommand has, accepted before the subcommand too. A subcommand's own
    # default must not undo one given before it: SUPPRESS leaves the first value standing.
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="kiosk", description=_("Library self-service kiosk"),
        formatter_class=words.HelpFormatter,
        epilog=_("--config and --log-level may come before the subcommand or after it (kiosk "
                 "--config X doctor, kiosk doctor --config X); given in both places, the one "
                 "after the subcommand wins. Each subcommand's --help tells more."))
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}",
                        help=_("show program's version number and exit"))
    _common_options(parser, default=None)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    named = named_subcommand(argv) if argv is not None else None
    for name in [named] if named else SUBCOMMANDS:
        import_module(f"kiosk.cli.{SUBCOMMANDS[name]}").register(subparsers, common)
    _describe(parser)
    return parser


def named_subcommand(argv: list[str]) -> str | None:
    """The subcommand `argv` names before anything asks for help, else None."""
    tokens = iter(argv)
    for token in tokens:
        if token in VALUED_OPTIONS:
            next(tokens, None)
        elif token in ("-h", "--help", "--version"):
            return None
        elif not token.startswith("-"):
            return token if token in SUBCOMMANDS else None
    return None


def _describe(parser: argparse.ArgumentParser) -> None:
    """A subcommand's own --help opens with the line its parent's list shows for it, so a
    technician who typed `kiosk journal export --help` reads what export does. Each wraps its
    help by screen columns (words.HelpFormatter): add_parser does not pass that on."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            lines = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                sub.formatter_class = words.HelpFormatter
                line = lines.get(name)
                if sub.description is None and line:
                    sub.description = _("{line}.", line=line[:1].upper() + line[1:])
                _describe(sub)


def _common_options(parser: argparse.ArgumentParser, *, default) -> None:
    parser.add_argument("--config", metavar="PATH", default=default, type=arg_types.path,
                        help=_("config file (default: /etc/kiosk/kiosk.toml with the boot "
                               "partition's kiosk.toml over it)"))
    parser.add_argument("--log-level", default=default,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help=_("overrides [logging] level"))


def main(argv: list[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not at exit
        return code
    except BrokenPipeError as e:
        if not _stdout_closed():
            print(f"kiosk: {e.strerror}", file=sys.stderr)
            return 2
        # `kiosk journal stats | head`: the reader has gone. As CPython's signal docs advise,
        # point stdout at devnull so that the flush at exit cannot fail again, and end quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass  # a stdout without a file descriptor (a test's capture) is not flushed at exit
        return 1


def _run(argv: list[str] | None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    args = build_parser(argv).parse_args(argv)
    logsetup.configure(args.log_level or "INFO")
    try:
        return args.func(args)
    except KioskError as e:
        # Our own errors are for people: one clear line, no traceback.
        print(f"kiosk: {words.error_text(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except OSError as e:
        # A file named on the command line that is missing, a folder, not readable, or on a
        # full disk: the system's own words and the name, one line.
        name = f"{e.filename}: " if e.filename is not None else ""
        print(f"kiosk: {name}{e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _stdout_closed() -> bool:
    """Whether standard output is a pipe or socket whose reader has gone (poll says POLLERR)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(flags & (select.POLLERR | select.POLLHUP) for _, flags in poller.poll(0))
    except (OSError, ValueError):
        return True  # no usable stdout at all: nothing more to say there


if __name__ == "__main__":
    sys.exit(main())
