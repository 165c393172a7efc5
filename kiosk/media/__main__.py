"""`python -m kiosk.media`: the root helper (kiosk-media.service, started by its socket)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from kiosk.media.helper import IDLE_EXIT_S, HelperSettings, listening_socket, serve
from kiosk.media.protocol import MOUNT_ROOT
from kiosk.update.release import RELEASE_PATH
from kiosk.update.state import RAUC_CONF


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.media",
                                     description="mounts USB sticks and installs update bundles "
                                                 "for the admin screen (runs as root)")
    parser.add_argument("--listen", type=Path, metavar="PATH",
                        help="a socket of its own, when not started by kiosk-media.socket")
    parser.add_argument("--mount-root", type=Path, default=MOUNT_ROOT,
                        help="where sticks are mounted (default %(default)s)")
    parser.add_argument("--release", type=Path, default=RELEASE_PATH,
                        help="the running system's release file (default %(default)s)")
    parser.add_argument("--rauc-conf", type=Path, default=RAUC_CONF,
                        help="present only on a kiosk from the SD-card image "
                             "(default %(default)s)")
    parser.add_argument("--idle-exit", type=float, default=IDLE_EXIT_S, metavar="SECONDS",
                        help="leave after this long without a connection (default %(default)g)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    settings = HelperSettings(mount_root=args.mount_root, release=args.release,
                              rauc_conf=args.rauc_conf)
    serve(listening_socket(args.listen), settings, args.idle_exit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
