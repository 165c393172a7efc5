"""Logging for the entry points: stderr, journald-friendly, patron numbers masked.

Libraries never configure logging; only the command lines (`kiosk.cli`, `central.cli`) call
`configure()`.
"""

from __future__ import annotations

import logging
import os
import sys

from common.masking import mask_numbers_in

# sd-daemon(3) priority prefixes: journald reads them and stores the level.
_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4,
                    logging.ERROR: 3, logging.CRITICAL: 2}


class MaskingFormatter(logging.Formatter):
    """Formats a record, then masks card and patron numbers in the whole line."""

    def __init__(self, journald: bool) -> None:
        fmt = ("%(name)s: %(message)s" if journald
               else "%(asctime)s %(levelname)s %(name)s: %(message)s")
        super().__init__(fmt)
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        line = mask_numbers_in(super().format(record))
        if self.journald:
            level = max(k for k in _SYSLOG_PRIORITY if k <= max(record.levelno, logging.DEBUG))
            line = f"<{_SYSLOG_PRIORITY[level]}>{line}"
        return line


def configure(level: str = "INFO") -> None:
    """Send every logger (Kivy's included) to stderr through the masking formatter."""
    # systemd sets JOURNAL_STREAM when stderr is connected to the journal.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(journald="JOURNAL_STREAM" in os.environ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
