"""The demo's e-book catalogue: the sample titles, built and signed with a demo key, applied
the way staff apply a monthly batch.

Generating 2,000 covers and EPUBs takes a while, so the signed batch is made once and kept in
the user's cache folder ($XDG_CACHE_HOME/kiosk, else ~/.cache/kiosk); a fresh demo data folder
then only applies it, which takes a second or two.

Two demos may start at once and share both folders: making the batch and applying it each
happen under a file lock (the second demo waits, then finds the work done), and the batch is
built in a folder of its own that is renamed into place only when whole.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.config import Config

log = logging.getLogger(__name__)

SAMPLE_TITLES = 2000
SAMPLE_BATCH = "2026-11"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kiosk"


def sample_batch(count: int = SAMPLE_TITLES, folder: Path | None = None) -> tuple[Path, Path]:
    """(signed sample batch folder, its public key), made on first use and kept."""
    folder = folder or cache_dir() / f"sample-{count}"
    batch, public = folder / "batch", folder / "demo-signing.pub"
    if _whole(folder):
        return batch, public
    folder.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(folder.with_name(folder.name + ".lock"), "the sample e-book batch"):
        if not _whole(folder):  # else another demo made it while this one waited
            _make(folder, count)
    return batch, public


def _whole(folder: Path) -> bool:
    return (folder / "batch/manifest.json.sig").exists() and (
        folder / "demo-signing.pub").exists()


def _make(folder: Path, count: int) -> None:
    """Build in a fresh folder of its own, then rename it into place: a kill leaves no half
    batch where the next demo looks. Runs under the lock."""
    from content.build import build_batch
    from content.sample import make_sample_source
    from content.signing import keygen

    log.info("making the sample e-book batch of %d titles in %s (first time only)", count, folder)
    for leftover in folder.parent.glob(f"{folder.name}.*.partial"):  # from a killed demo
        shutil.rmtree(leftover, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", suffix=".partial",
                                 dir=folder.parent))
    try:
        keygen(work / "demo-signing.key", work / "demo-signing.pub")
        source = make_sample_source(work / "source", count=count)
        build_batch(source, work / "batch", work / "demo-signing.key", SAMPLE_BATCH)
        shutil.rmtree(work / "source")
        shutil.rmtree(folder, ignore_errors=True)  # a batch left incomplete by an old version
        os.rename(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


@contextmanager
def exclusive(path: Path, what: str) -> Iterator[None]:
    """Holds an exclusive lock on `path` (released by the kernel if the process dies),
    waiting for another demo that holds it."""
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another demo preparing %s", what)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def needed(config: Config) -> bool:
    """Whether the demo's data folder has no catalogue yet (cheap: no catalogue code loaded)."""
    return not (config.catalogue_dir / "current").exists()


def prepare(config: Config, count: int = SAMPLE_TITLES) -> None:
    """Give a demo data folder the sample catalogue unless it has one already."""
    prepare_folder(config.catalogue_dir, config.batch_public_key_path, count)


def prepare_folder(catalogue_dir: Path, key: Path, count: int = SAMPLE_TITLES) -> None:
    from content.store import CatalogueStore

    store = CatalogueStore(catalogue_dir)
    if store.current_dir() is not None:
        return
    batch, public = sample_batch(count)
    lock = catalogue_dir.with_name(catalogue_dir.name + ".demo-lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(lock, "the demo catalogue"):
        if store.current_dir() is not None:
            return  # another demo on this data folder applied it meanwhile
        if not key.exists():  # so `kiosk content apply` works in the demo
            key.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(public, key.with_name(key.name + ".new"))
            os.replace(key.with_name(key.name + ".new"), key)
        report = store.apply(batch, public)
    log.info("demo catalogue: %d sample titles applied", len(report.added))


def main(argv: list[str]) -> int:
    """`python -m kiosk.demo.sample_batch CATALOGUE_DIR PUBLIC_KEY`: the demo app's first
    start, in a process of its own (kiosk.own_process), so that the build's pinyin
    dictionaries and the apply's cryptography never load into the app."""
    from common import logsetup
    from kiosk.errors import KioskError

    logsetup.configure("INFO")
    catalogue_dir, key = argv
    try:
        prepare_folder(Path(catalogue_dir), Path(key))
    except (KioskError, OSError) as e:
        log.error("the sample e-book catalogue could not be prepared: %s", e)
        return 1
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
