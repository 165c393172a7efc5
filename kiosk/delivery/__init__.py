"""Files the central server publishes for kiosks, fetched on the kiosk: a system update (a RAUC
bundle, issue 14, kiosk.update.pull) and an e-book batch (issue 17, kiosk.content_pull).

`releases` reads the server's description of a release, `download` fetches one file with
resume across cut connections and restarts (HTTP Range and If-Range, the partial file and its
ETag kept on the data partition), a bandwidth limit (`throttle`) and a space check (`space`),
and verifies its size and sha256 before calling it downloaded; `status` is what the kiosk
reports about each kind of delivery (heartbeat, doctor, `kiosk update status`);
`jsonfile` writes the small state files atomically; `from_config` builds the server's
client and a downloader from the config. Runs on the calling thread (the pull's
process); nothing here knows RAUC.
"""
