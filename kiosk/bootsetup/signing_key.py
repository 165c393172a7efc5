"""`content-signing.pub` on the boot folder: the library's public key for e-book batches,
installed where the kiosk looks for it (`[ebooks] batch_public_key`, by default in the data
folder) at every boot, so a kiosk flashed from the image trusts its library's batches without
a login.

A public key is no secret: the file stays on the card, where a technician can see which key the
kiosk trusts, and a new one there replaces the installed one at the next boot (a new key pair
at the library). A file that is not such a key (the private key by mistake, an SSH key) is a
problem on the report, and the installed key stays as it was.
"""

from __future__ import annotations

from pathlib import Path

from content.errors import ContentError
from content.signing import public_key_pem
from kiosk.bootsetup import files
from kiosk.bootsetup.boot_folder import CONTENT_SIGNING_KEY
from kiosk.bootsetup.outcome import Outcome

KEY_MODE = 0o644
MAX_BYTES = 4096  # a PEM public key is about 113 bytes


def install(boot_dir: Path | None, destination: Path, owner: tuple[int, int] | None,
            outcome: Outcome) -> None:
    source = boot_dir / CONTENT_SIGNING_KEY if boot_dir is not None else None
    if source is None or not source.is_file():
        return
    data = files.read_bytes(source)
    if data is None:
        outcome.problem(CONTENT_SIGNING_KEY, "cannot be read from the boot folder")
        return
    try:
        if len(data) > MAX_BYTES:
            raise ContentError(f"{len(data)} bytes, far more than a public key: not a public "
                               "key in PEM form")
        pem = public_key_pem(data)
    except ContentError as e:
        outcome.problem(CONTENT_SIGNING_KEY, f"{e}; the installed key stays in use")
        return
    previous = files.read_bytes(destination)
    if previous == pem:
        outcome.note(f"e-book batch signing key on the boot folder is the one already in "
                     f"{destination}")
        return
    try:
        files.write_atomically(destination, pem, mode=KEY_MODE, owner=owner)
    except OSError as e:
        outcome.problem(CONTENT_SIGNING_KEY, f"cannot store it as {destination}: {e.strerror} "
                                             "(is the data partition full or read-only?)")
        return
    if previous is None:
        outcome.changed(f"e-book batch signing key installed as {destination}")
    else:
        outcome.changed(f"e-book batch signing key replaced in {destination} by the one on the "
                        "boot folder: batches signed with the old key are refused from now on")
