"""The uploader: journal rows not yet sent, as counts, to the central server; and a heartbeat.

A separate process (`kiosk upload`, run by systemd's kiosk-upload.timer and from the admin
screen), never a thread of the app: the journal's WAL lets it read and mark rows while the app
writes. `counts` turns rows into counts, `state` keeps the uploader's small state file,
`sender` talks HTTP with retries, `heartbeat` reports the kiosk's health, `run` ties them up.
"""
