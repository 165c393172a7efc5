"""Logging for the kiosk's entry points, named here for `kiosk.cli`: kept in common/logsetup.py,
which the central server's command line uses too."""

from common.logsetup import MaskingFormatter as MaskingFormatter
from common.logsetup import configure as configure
