"""The library kiosk: app, services and command line."""

from common import __version__ as __version__  # one version for the whole distribution
