"""What an e-book batch `.tar` (made by `kiosk content build`) says of itself: its name and
how many titles it carries, read from the tar's manifest.json on whichever thread publishes it.

The server never verifies the batch's signature and cannot make one (it holds no key): it only
checks that the file is a batch, with its `manifest.json.sig` beside the manifest, so that a
wrong file is refused at once. Every kiosk verifies the signature with its own trusted public
key, and the files against the manifest, before it applies a batch.
"""

from __future__ import annotations

import json
import logging
import tarfile
from dataclasses import dataclass
from pathlib import Path

from central.errors import ReleaseRefused
from central.i18n import N_
from common.batch_names import BATCH_NAME

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
FORMAT = 1
# A manifest of 100,000 titles is some tens of MB; a larger one is not a batch's.
MAX_MANIFEST_BYTES = 256 * 2**20


@dataclass(frozen=True)
class BatchInfo:
    batch: str   # the batch's name, e.g. 2026-12: the release's version
    titles: int  # the manifest's title_count


def read_batch(path: Path) -> BatchInfo:
    """The batch's name and title count; ReleaseRefused when `path` is not a batch .tar."""
    try:
        with tarfile.open(path, "r:*") as tar:
            manifest, signed = None, False
            for member in tar:  # the build puts the manifest and signature first
                name = member.name.removeprefix("./")
                if name == MANIFEST and member.isfile():
                    if member.size > MAX_MANIFEST_BYTES:
                        raise _not_a_batch(f"{MANIFEST} is {member.size} bytes")
                    handle = tar.extractfile(member)
                    manifest = handle.read() if handle else None
                elif name == SIGNATURE and member.isfile():
                    signed = True
                if manifest is not None and signed:
                    break
    except (tarfile.TarError, OSError, EOFError) as e:
        raise _not_a_batch(f"it is not a readable tar ({e})") from None
    if manifest is None:
        raise _not_a_batch(f"the tar has no {MANIFEST}")
    if not signed:
        raise _not_a_batch(f"the tar has no {SIGNATURE} (sign the batch: kiosk content build "
                           "--key)")
    return _described(manifest)


def _described(manifest: bytes) -> BatchInfo:
    try:
        doc = json.loads(manifest.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _not_a_batch(f"its {MANIFEST} is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _not_a_batch(f"its {MANIFEST} is not format {FORMAT}")
    batch, count, titles = doc.get("batch"), doc.get("title_count"), doc.get("titles")
    if not isinstance(batch, str) or not BATCH_NAME.match(batch):
        raise _not_a_batch(f"the batch name {batch!r} is not a name like 2026-12")
    if (not isinstance(count, int) or isinstance(count, bool) or not isinstance(titles, list)
            or count != len(titles)):
        raise _not_a_batch(f"its title_count {count!r} does not match its list of titles")
    return BatchInfo(batch, count)


def _not_a_batch(why: str) -> ReleaseRefused:
    log.info("not an e-book batch: %s", why)
    return ReleaseRefused(f"the file is not an e-book batch (.tar made by kiosk content "
                          f"build): {why}",
                          N_("The file is not an e-book batch (.tar made by kiosk content "
                             "build)."))
