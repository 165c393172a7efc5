"""The folders of /data, made before anything needs them (kiosk-data-layout.service, as root).

/data is the KIOSKDATA partition on a Pi (a plain folder on the root of a PC). Its top is
root's (0755); under it `kiosk/` (the kiosk user's, 0700, bind-mounted at /var/lib/kiosk by
fstab: the app and its units keep that path), `ssh/` (the SSH host keys, root 0700) and `rauc/`
(RAUC's data-directory, root 0755). A fresh partition has none of them, so the unit runs after
/data is mounted and before the bind mount (fstab: x-systemd.requires). On a PC the kiosk's data
stays in /var/lib/kiosk (no bind), so `kiosk/` is made only on a mounted partition.

A partition from before this layout (issue 13: KIOSKDATA mounted at /var/lib/kiosk, the kiosk's
files at its top) is moved into `kiosk/` once: through a temporary folder renamed at the end, so
a power cut half-way is finished at the next boot and nothing is left behind at the top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from common.files import fsync_dir
from kiosk.bootsetup import data_folder, data_partition, files
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths

TOP_MODE = 0o755


@dataclass(frozen=True)
class Folder:
    name: str             # under /data
    mode: int
    kiosk_owned: bool     # the kiosk user's, else root's
    partition_only: bool  # made only when /data is a mounted partition


KIOSK = Folder("kiosk", 0o700, kiosk_owned=True, partition_only=True)
SSH = Folder("ssh", 0o700, kiosk_owned=False, partition_only=False)
RAUC = Folder("rauc", 0o755, kiosk_owned=False, partition_only=False)
FOLDERS = (KIOSK, SSH, RAUC)
# What stays at the partition's top when an old layout moves into kiosk/: ext4's own folder,
# the growth marker (the partition was grown already) and our folders.
MOVING = ".kiosk-moving"
STAYS_AT_TOP = frozenset({"lost+found", ".grown", MOVING, *(f.name for f in FOLDERS)})


def is_partition(paths: BootPaths) -> bool:
    """Whether something is mounted at /data (else it is a plain folder on the root)."""
    try:
        return data_partition.find_mount(paths.mountinfo.read_text(), paths.data_mount) \
            is not None
    except OSError:
        return False


def apply(paths: BootPaths, outcome: Outcome) -> bool:
    """/data's folders with their owners and modes; False when one of them cannot be made."""
    partition = is_partition(paths)
    kiosk_owner = files.user_ids(paths.kiosk_user)
    ok = data_folder.claim(paths.data_mount, files.ROOT_OWNER, outcome, mode=TOP_MODE)
    if ok and partition:
        ok = _adopt_old_layout(paths, kiosk_owner, outcome)
    for folder in FOLDERS:
        if folder.partition_only and not partition:
            continue
        owner = kiosk_owner if folder.kiosk_owned else files.ROOT_OWNER
        ok = data_folder.claim(paths.data_mount / folder.name, owner, outcome,
                               mode=folder.mode) and ok
    return ok


def _adopt_old_layout(paths: BootPaths, owner: tuple[int, int] | None,
                      outcome: Outcome) -> bool:
    """The kiosk's files at the partition's top (the layout before /data) moved into kiosk/."""
    top = paths.data_mount
    kiosk, moving = top / KIOSK.name, top / MOVING
    if kiosk.exists():
        return True
    try:
        entries = sorted(e for e in top.iterdir() if e.name not in STAYS_AT_TOP)
        if not entries and not moving.exists():
            return True  # a fresh partition
        moving.mkdir(mode=KIOSK.mode, exist_ok=True)
        for entry in entries:
            entry.rename(moving / entry.name)
        fsync_dir(moving)
        if owner is not None:
            os.chown(moving, *owner)
        moving.rename(kiosk)
        fsync_dir(top)
    except OSError as e:
        outcome.warn(f"cannot move the kiosk's files on {top} into {kiosk}: {e.strerror}; "
                     "tried again at the next boot")
        return False
    outcome.changed(f"the kiosk's {len(entries)} files and folders at the top of {top} (the "
                    f"layout before /data) moved into {kiosk}, which /var/lib/kiosk shows")
    return True
