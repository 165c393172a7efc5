"""`kiosk run`: the patron app, with real devices or (`--demo`) simulated ones."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import sys
from pathlib import Path

from kiosk import boot_report
from kiosk.boot_report import BootProblem
from kiosk.cli import arg_types, out_of_service_cmd
from kiosk.cli.common import load_config
from kiosk.cli.words import _
from kiosk.demo import DEMO_DIR
from kiosk.errors import ConfigError, KioskError
from kiosk.runtime import Runtime, SteerableClock
from kiosk.ui import boot
from kiosk.ui.notice import settings_notice

log = logging.getLogger(__name__)
BOOT_REPORT_ENV = "KIOSK_BOOT_REPORT"  # another report file than boot_report.REPORT_PATH


def register(subparsers, common) -> None:
    p = subparsers.add_parser("run", parents=[common], help=_("run the kiosk app"))
    p.add_argument("--demo", action="store_true",
                   help=_("simulated devices, the demo config unless --config is given"))
    p.add_argument("--walkthrough", metavar="DIR", type=Path,
                   help=_("tour every screen, save a screenshot of each in DIR, then exit; "
                          "with real devices, steps that need simulated ones are skipped and "
                          "listed"))
    p.add_argument("--size", metavar="WIDTHxHEIGHT", type=arg_types.screen_size,
                   help=_("the window's size instead of [display] width and height, e.g. "
                          "1080x1920 for a portrait panel"))
    p.add_argument("--boot-report", metavar="PATH", type=Path,
                   help=_("kiosk boot-setup's report, which must exist (default: ${variable}, "
                          "else {path} if it exists)", variable=BOOT_REPORT_ENV,
                          path=boot_report.REPORT_PATH))
    p.set_defaults(func=run)


def run(args) -> int:
    """The kiosk app; out of service (a notice on the screen, the process staying up) when its
    settings are wrong, so that systemd does not start it again and again."""
    problems: list[BootProblem] = []
    try:
        config = load_config(args, demo=args.demo)
    except ConfigError as e:
        if args.walkthrough or boot.display_missing() is not None:
            raise  # nothing to show it on (or a developer's tour): one line on the terminal
        config = None
        problems.append(BootProblem("", str(e)))
    if args.size is not None and config is not None:
        config = _sized(config, args.size)
    boot.require_display()
    # The tour shows the app's own screens, whatever the boot folder held.
    report = None if args.walkthrough else _read_boot_report(args)
    if report is not None:
        problems.extend(report.problems)
    if problems or config is None:  # no config comes with its problem
        return out_of_service_cmd.show(settings_notice(problems), config)
    if args.demo:
        _prepare_demo_catalogue(config)
        config = _demo_download_port(config)
    demo_ils = None
    if args.demo and not config.ils.host:
        config, demo_ils = _start_demo_ils(config)
    try:
        return _run_app(args, config)
    finally:
        if demo_ils is not None:
            demo_ils.stop()


def _run_app(args, config) -> int:
    _clear_catalogue_leftovers(config)
    # The runtime opens the journal: one that cannot be opened (a full or read-only data
    # partition) shows the out-of-service screen instead of stopping the app.
    runtime = Runtime(config, clock=SteerableClock())

    boot.prepare(config.display)
    from kiosk.ui.app import KioskApp

    app = KioskApp(runtime, demo=args.demo or args.walkthrough is not None)
    if args.walkthrough:
        from kiosk.ui.walkthrough import Walkthrough
        tour = Walkthrough(app, args.walkthrough)
        app.bind(on_start=lambda _app: tour.start())
    log.info("starting kiosk %s%s", config.kiosk.id, " (demo)" if args.demo else "")
    app.run()
    if args.walkthrough:
        print(_("saved {count} screenshots in {folder}", count=len(tour.saved),
                folder=args.walkthrough))
        for name, why in tour.skipped:
            print(_("skipped {name}: {why}", name=name, why=why))
        return 0 if tour.saved else 1
    if app.restart_requested:
        log.info("restarting as asked on the admin screen")
        os.execv(sys.executable, [sys.executable, "-m", "kiosk", *sys.argv[1:]])
    return 0


def _sized(config, size: tuple[int, int]):
    width, height = size
    display = dataclasses.replace(config.display, width=width, height=height)
    return dataclasses.replace(config, display=display)


def _clear_catalogue_leftovers(config) -> None:
    """An apply cut by a power cut or a kill leaves its half-built version: its space comes
    back at the app's next start."""
    from content.store import CatalogueStore
    try:
        CatalogueStore(config.catalogue_dir).clear_leftovers()
    except OSError as e:  # the catalogue still shows; the next apply tries again
        log.warning("could not remove an unfinished catalogue version: %s", e)


def _prepare_demo_catalogue(config) -> None:
    """The sample catalogue, made and applied at the demo's first start in a process of its
    own: the build's pinyin dictionaries and the apply's cryptography stay out of the app."""
    import subprocess

    from kiosk import own_process
    from kiosk.demo import sample_batch
    if not sample_batch.needed(config):
        return
    try:
        done = subprocess.run(
            own_process.command("kiosk.demo.sample_batch", str(config.catalogue_dir),
                                str(config.batch_public_key_path)),
            stdin=subprocess.DEVNULL, env=own_process.environment())
    except OSError as e:  # the demo runs on; the e-book screens say it's missing
        log.error("the sample e-book catalogue could not be prepared: %s", e)
        return
    if done.returncode != 0:
        log.error("the sample e-book catalogue could not be prepared (code %d)", done.returncode)


def _demo_download_port(config):
    """The demo's config, serving downloads on a free port when its own is busy (another
    demo, or any program): the QR links follow the port the server really binds."""
    books = config.ebooks
    if not books.serve or books.port == 0:
        return config
    with socket.socket(socket.AF_INET6 if ":" in books.listen else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind((books.listen, books.port))
            return config
        except OSError as e:
            log.warning("port %d is busy (%s): the demo serves downloads on a free port",
                        books.port, e.strerror or e)
    return dataclasses.replace(config, ebooks=dataclasses.replace(books, port=0))


def _start_demo_ils(config):
    """The demo's own library system (kiosk/demo/ils.toml) on a free 127.0.0.1 port, and the
    config pointed at it. Without it the demo still runs; borrowing then says it is away."""
    from kiosk.sip2.standin_server import start_demo_ils
    try:
        server = start_demo_ils(DEMO_DIR / "ils.toml")
    except (KioskError, OSError) as e:
        log.error("the demo's library system could not start: %s", e)
        return config, None
    host, port = server.address
    username, password = server.login or ("", "")
    log.info("demo library system (SIP2) on %s:%d", host, port)
    ils = dataclasses.replace(config.ils, host=host, port=port, username=username,
                              password=password)
    return dataclasses.replace(config, ils=ils), server


def _read_boot_report(args) -> boot_report.BootReport | None:
    """A report named by --boot-report or kiosk.service's environment must exist; without
    either (a developer's machine) it is read when boot-setup happened to write one."""
    named = args.boot_report or os.environ.get(BOOT_REPORT_ENV)
    return boot_report.read(Path(named) if named else boot_report.REPORT_PATH,
                            expected=bool(named))
