"""USB sticks for the admin screen (issue 14): a small root helper and the app's client.

The app runs as user kiosk and may not mount or install; `kiosk-media.socket` (root, group
kiosk, 0660) starts the helper (`python -m kiosk.media`), which speaks JSON lines
(`protocol`): `scan` finds USB partitions (`devices`) and mounts them read-only, nosuid, nodev,
noexec under /run/kiosk-media (`mounts`) and lists the update bundles on them (`bundles`);
`install` hands one to `rauc install` with its progress streamed (`install`); `release`
unmounts. Mounts live only as long as the connection that made them (`helper`). The app
talks to it through `client`, on a worker thread.
"""
