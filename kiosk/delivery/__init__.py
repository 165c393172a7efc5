"""Files the central server publishes for kiosks, fetched on the kiosk: a system update (a RAUC
bundle, issue 14) today, an e-book batch later (issue 17).

`releases` reads the server's description of a release, `download` fetches one file with
resume across cut connections and restarts (HTTP Range and If-Range, the partial file and its
ETag kept on the data partition), a bandwidth limit (`throttle`) and a space check (`space`),
and verifies its size and sha256 before calling it downloaded; `status` is what the kiosk
reports about each kind of delivery (heartbeat, doctor, `kiosk update status`), and
`jsonfile` writes the small state files atomically. Runs on the calling thread (the pull's
process); nothing here knows RAUC.
"""
