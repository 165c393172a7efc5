"""Circulation inside the kiosk: the thread that talks to the ILS, and the offline store."""
