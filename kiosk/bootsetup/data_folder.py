"""A folder with the owner and mode it must have, whatever made it.

A freshly made KIOSKDATA file system's top folder is root's with mode 0755; kiosk.service runs
as `kiosk` and could not write its journal in a folder made that way. Checked at every boot
(cheap), changed and logged only when wrong. `claim` serves the kiosk's data folder (boot-setup)
and the folders of /data (data_layout).
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.bootsetup.outcome import Outcome
from kiosk.private_files import FOLDER_MODE


def claim(folder: Path, owner: tuple[int, int] | None, outcome: Outcome, *,
          mode: int = FOLDER_MODE) -> bool:
    """`folder` made when missing, given `owner` (None: leave it) and `mode`; False (with a
    warning) when that cannot be done."""
    try:
        if not folder.is_dir():
            folder.mkdir(mode=mode, parents=True)
            outcome.changed(f"data folder {folder} made")
        st = folder.stat()
        if owner is not None and (st.st_uid, st.st_gid) != owner:
            os.chown(folder, *owner)
            outcome.changed(f"data folder {folder} given to {_owner_name(owner)}")
        if st.st_mode & 0o777 != mode:
            os.chmod(folder, mode)
            outcome.changed(f"data folder {folder}: mode {st.st_mode & 0o777:o} -> {mode:o}")
    except OSError as e:
        outcome.warn(f"cannot set up the data folder {folder}: {e.strerror}")
        return False
    return True


def _owner_name(owner: tuple[int, int]) -> str:
    return "root" if owner == (0, 0) else "the kiosk user"
