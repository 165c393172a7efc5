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
from kiosk.cli.words import _, error_text, pad, say
from kiosk.errors import ConfigError, KioskError
from kiosk.i18n import N_, Translator
from kiosk.journal.store import parse_utc
from kiosk.status import Check, Message

MARKS = {True: N_("ok"), False: N_("FAIL"), None: "--"}
WARN = N_("WARN")
# The checks' names as a technician reads them; the names themselves stay the code's keys.
NAMES = {
    "version": N_("version"), "config": N_("config"), "journal": N_("journal"),
    "disk": N_("disk"), "clock": N_("clock"), "ebooks": N_("ebooks"),
    "downloads": N_("downloads"), "ils": N_("ils"), "central": N_("central"),
    "offline": N_("offline"), "unsettled": N_("unsettled"), "font": N_("font"),
    "translations": N_("translations"), "service": N_("service"), "watchdog": N_("watchdog"),
    "root": N_("root"), "data": N_("data"), "ssh": N_("ssh"), "boot-setup": N_("boot-setup"),
    "network": N_("network"), "time": N_("time"), "update": N_("update"),
    "display": N_("display"),
}
DEVICE = N_("device:{name}")
# Words kiosk.system_checks puts into its summaries as values: translated when shown, and only
# these, so that a path or a version is never taken for a message id.
VALUES = frozenset((
    N_("read-only"), N_("read-write"), N_("synchronised"), N_("not synchronised"),
    N_("cannot tell"), N_("the system's defaults"), N_("unknown here"), N_("off"),
    N_("no /dev/watchdog"), N_("no address"), N_("did not run"), N_("clean"),
    N_("portrait"), N_("landscape"),
))
DISPLAY = N_("panel {panel}, turned {rotation} degrees clockwise: screens laid out at {screen} "
             "({shape}), touches turned with the picture")
KINDS = {"checkout": N_("borrow"), "checkin": N_("return")}


def register(subparsers, common) -> None:
    p = subparsers.add_parser("doctor", parents=[common],
                              help=_("check config, journal, devices and servers; exit 1 on a "
                                     "fault"))
    p.add_argument("--demo", action="store_true", help=_("check the demo's config"))
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        config = load_config(args, demo=args.demo)
    except ConfigError as e:
        print(format_check(Check("config", False, Message(error_text(e)))))
        return 1
    report = status.gather(config, verify_journal=True)
    checks = [*report.checks, check_display(config), check_font(), check_translations(),
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
    """One check's line: verdict, name, summary -> advice; the first two padded by the columns
    they take on screen, so that a Chinese name's line lines up with the others."""
    mark = _(WARN) if check.ok and check.warning else _(MARKS[check.ok])
    line = f"{pad(mark, 5)} {pad(check_name(check.name), 16)} {say_values(check.summary)}"
    if check.advice:
        line += f" -> {say_values(check.advice)}"
    return line


def say_values(message: Message) -> str:
    args = {k: _(v) if isinstance(v, str) and v in VALUES else v for k, v in message.args.items()}
    return say(Message(message.msgid, args))


def check_name(name: str) -> str:
    if name.startswith("device:"):
        return _(DEVICE, name=name.removeprefix("device:"))
    return _(NAMES[name]) if name in NAMES else name


def format_refused(tx) -> str:
    """One transaction the ILS refused on replay, under the offline check's line."""
    kind = _(KINDS["checkout" if tx.kind == "checkout" else "checkin"])
    book = f"{tx.item_id} {tx.title}".strip()
    patron = " " + _("patron {patron}", patron=tx.patron_masked) if tx.patron_masked else ""
    return "      " + _("refused: {when} {kind} {book}{patron}: {why}",
                        when=f"{tx.when_utc.astimezone():%Y-%m-%d %H:%M}", kind=kind, book=book,
                        patron=patron, why=tx.message or _("no reason given"))


def format_unsettled(intent) -> str:
    """One transaction whose result is not known (an open intent row), under its check."""
    when = parse_utc(intent.time_utc).astimezone()
    book = f"{intent.item or ''} {intent.title or ''}".strip()
    return "      " + _("not known: {when} {outcome} {book} (journal row {seq})",
                        when=f"{when:%Y-%m-%d %H:%M}", outcome=intent.outcome, book=book,
                        seq=intent.seq)


def check_display(config) -> Check:
    """The panel and how the picture is turned, as `kiosk run` will lay the screens out."""
    display = config.display
    width, height = display.width, display.height
    if display.rotation in (90, 270):
        width, height = height, width
    return Check("display", True, Message(DISPLAY, {
        "panel": f"{display.width}x{display.height}", "rotation": display.rotation,
        "screen": f"{width}x{height}", "shape": "portrait" if height > width else "landscape"}))


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
