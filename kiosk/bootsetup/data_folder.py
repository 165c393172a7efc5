"""The data folder belongs to the kiosk's user, mode 0700, whatever made it.

A freshly made KIOSKDATA file system's top folder is root's with mode 0755; kiosk.service runs
as `kiosk` and could not write its journal there. Checked at every boot (cheap), changed and
logged only when wrong.
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.bootsetup.outcome import Outcome
from kiosk.private_files import FOLDER_MODE


def claim(folder: Path, owner: tuple[int, int] | None, outcome: Outcome) -> None:
    try:
        if not folder.is_dir():
            folder.mkdir(mode=FOLDER_MODE, parents=True)
            outcome.changed(f"data folder {folder} made")
        st = folder.stat()
        if owner is not None and (st.st_uid, st.st_gid) != owner:
            os.chown(folder, *owner)
            outcome.changed(f"data folder {folder} given to the kiosk user")
        if st.st_mode & 0o777 != FOLDER_MODE:
            os.chmod(folder, FOLDER_MODE)
            outcome.changed(f"data folder {folder}: mode {st.st_mode & 0o777:o} -> "
                            f"{FOLDER_MODE:o}")
    except OSError as e:
        outcome.warn(f"cannot set up the data folder {folder}: {e.strerror}")
