"""The kiosk's core: patron sessions as plain state machines. Never imports Kivy or hardware.

Runs on whichever thread owns it (the Kivy main thread in the app, the test's thread in tests).
"""
