"""The library kiosk: app, services and command line."""

__version__ = "0.1.0"
