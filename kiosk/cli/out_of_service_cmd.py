"""`kiosk out-of-service`: only the out-of-service notice on the screen, for as long as it runs.

kiosk-out-of-service.service runs it when kiosk.service has failed too often (systemd's
OnFailure= after the start limit), so the kiosk says so instead of showing a black screen or
rebooting in a loop. It needs no journal, no devices and no network; the config is read only
for the display (size, rotation), and the defaults do when it cannot be read. `kiosk run` shows
the same notice through `show()` when its settings are wrong.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from kiosk.cli.common import load_config
from kiosk.cli.words import _
from kiosk.config import Config, DisplaySection
from kiosk.errors import ConfigError
from kiosk.ui import boot
from kiosk.ui.notice import Notice, NoticeKind

log = logging.getLogger(__name__)
DEFAULT_REASON = "The kiosk app failed to start five times; see journalctl -u kiosk"


def register(subparsers, common) -> None:
    p = subparsers.add_parser(
        "out-of-service", parents=[common],
        help=_("show only the out-of-service notice (kiosk-out-of-service.service runs this)"))
    p.add_argument("--reason", default=DEFAULT_REASON,
                   help=_("the line shown under the heading (default: \"{reason}\")",
                          reason=DEFAULT_REASON))
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        config = load_config(args)
    except ConfigError as e:
        log.warning("the display's settings are the defaults: %s", e)
        config = None
    return show(Notice(NoticeKind.START_FAILED, (args.reason,)), config)


def show(notice: Notice, config: Config | None) -> int:
    """Show `notice` until SIGTERM or SIGINT, then return 0."""
    boot.require_display()
    for line in notice.details:
        log.error("out of service: %s", line)
    display = config.display if config is not None else DisplaySection()
    # The Chinese face is cut out of the font collection once; without the data folder's cache
    # a private temporary folder does (systemd gives the service its own /tmp).
    font_cache = (config.data_dir / "cache" / "fonts" if config is not None
                  else Path(tempfile.gettempdir()) / "kiosk-fonts")
    boot.prepare(display)
    from kiosk.ui.notice_app import NoticeApp
    NoticeApp(notice, display, font_cache).run()
    return 0
