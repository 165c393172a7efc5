"""The central server: kiosks upload counts and heartbeats; staff read the fleet and the figures.

One process (`kiosk-central serve`), SQLite by default and PostgreSQL for a network of
libraries. It shares the distribution, and so the version, with the kiosk.
"""

from common import __version__

__all__ = ["__version__"]
