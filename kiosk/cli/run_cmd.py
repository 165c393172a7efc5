"""`kiosk run`: the patron app, with real devices or (`--demo`) simulated ones."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path

from kiosk.cli.common import load_config
from kiosk.demo import DEMO_DIR
from kiosk.errors import KioskError
from kiosk.runtime import Runtime, SteerableClock

log = logging.getLogger(__name__)


def register(subparsers, common) -> None:
    p = subparsers.add_parser("run", parents=[common], help="run the kiosk app")
    p.add_argument("--demo", action="store_true",
                   help="simulated devices, the demo config unless --config is given")
    p.add_argument("--walkthrough", metavar="DIR", type=Path,
                   help="tour every screen, save a screenshot of each in DIR, then exit")
    p.set_defaults(func=run)


def run(args) -> int:
    config = load_config(args, demo=args.demo)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("KIVY_WINDOW") or _has_kms()):
        raise KioskError("no display found (DISPLAY is not set). On a machine without a screen "
                         "run: xvfb-run -a kiosk run --demo --walkthrough screenshots/")
    if args.demo:
        _prepare_demo_catalogue(config)
    demo_ils = None
    if args.demo and not config.ils.host:
        config, demo_ils = _start_demo_ils(config)
    try:
        return _run_app(args, config)
    finally:
        if demo_ils is not None:
            demo_ils.stop()


def _run_app(args, config) -> int:
    # The runtime opens the journal: one that cannot be opened (a full or read-only data
    # partition) shows the out-of-service screen instead of stopping the app.
    runtime = Runtime(config, clock=SteerableClock())

    from kiosk.ui import boot
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
        print(f"saved {len(tour.saved)} screenshots in {args.walkthrough}")
        return 0 if tour.saved else 1
    if app.restart_requested:
        log.info("restarting as asked on the admin screen")
        os.execv(sys.executable, [sys.executable, "-m", "kiosk", *sys.argv[1:]])
    return 0


def _prepare_demo_catalogue(config) -> None:
    from kiosk.demo import catalogue
    try:
        catalogue.prepare(config)
    except (KioskError, OSError) as e:  # the demo runs on; the e-book screens say it's missing
        log.error("the sample e-book catalogue could not be prepared: %s", e)


def _start_demo_ils(config):
    """The demo's own library system (kiosk/demo/ils.toml) on a free 127.0.0.1 port, and the
    config pointed at it. Without it the demo still runs; borrowing then says it is away."""
    from kiosk.sip2.test_server import start_demo_ils
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


def _has_kms() -> bool:
    # A Pi without X or Wayland: SDL draws straight to the screen through KMS/DRM.
    return Path("/dev/dri/card0").exists() and not os.environ.get("SSH_CONNECTION")
