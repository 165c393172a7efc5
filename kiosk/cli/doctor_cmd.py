"""`kiosk doctor`: checks a kiosk end to end and prints one line per check with what to do.

Exit status 0 when nothing is at fault, 1 when something is (a check that is not set up,
"--", or a warning, "WARN", is not a fault). Besides the admin screen's checks it looks at
what the app needs to start, lists each transaction the ILS refused when offline ones
were replayed, and ends with the machine's checks (kiosk.system_checks: service, watchdog,
root, data partition, boot-setup, network, time).
"""

from __future__ import annotations

from kiosk import status, system_checks
from kiosk.cli.common import load_config
from kiosk.errors import ConfigError, KioskError
from kiosk.i18n import Translator
from kiosk.journal.store import parse_utc
from kiosk.status import Check, Message

MARKS = {True: "ok", False: "FAIL", None: "--"}


def register(subparsers, common) -> None:
    p = subparsers.add_parser("doctor", parents=[common],
                              help="check config, journal, devices and servers; exit 1 on a fault")
    p.add_argument("--demo", action="store_true", help="check the demo's config")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        config = load_config(args, demo=args.demo)
    except ConfigError as e:
        print(format_check(Check("config", False, Message(str(e)))))
        return 1
    report = status.gather(config, verify_journal=True)
    checks = [*report.checks, check_font(), check_translations(),
              *system_checks.gather(config)]
    for check in checks:
        print(format_check(check))
        if check.name == "offline":
            for transaction in report.offline_refused:
                print(format_refused(transaction))
        if check.name == "unsettled":
            for intent in report.unsettled:
                print(format_unsettled(intent))
    return 1 if any(c.ok is False for c in checks) else 0


def format_check(check: Check) -> str:
    mark = "WARN" if check.ok and check.warning else MARKS[check.ok]
    line = f"{mark:<5} {check.name:<16} {check.summary.english}"
    if check.advice:
        line += f" -> {check.advice.english}"
    return line


def format_refused(tx) -> str:
    """One transaction the ILS refused on replay, under the offline check's line."""
    kind = "borrow" if tx.kind == "checkout" else "return"
    book = f"{tx.item_id} {tx.title}".strip()
    patron = f" patron {tx.patron_masked}" if tx.patron_masked else ""
    return (f"      refused: {tx.when_utc.astimezone():%Y-%m-%d %H:%M} {kind} {book}{patron}: "
            f"{tx.message or 'no reason given'}")


def format_unsettled(intent) -> str:
    """One transaction whose result is not known (an open intent row), under its check."""
    when = parse_utc(intent.time_utc).astimezone()
    book = f"{intent.item or ''} {intent.title or ''}".strip()
    return (f"      not known: {when:%Y-%m-%d %H:%M} {intent.outcome} {book} "
            f"(journal row {intent.seq})")


def check_font() -> Check:
    from kiosk.ui.fonts import find_cjk_font  # finds the file only; Kivy is not loaded
    try:
        return Check("font", True, Message(str(find_cjk_font())))
    except KioskError as e:
        return Check("font", False, Message(str(e)))


def check_translations() -> Check:
    try:
        Translator()
    except KioskError as e:
        return Check("translations", False, Message(str(e)))
    return Check("translations", True, Message("zh_CN, en"))
