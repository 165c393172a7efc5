"""The demo's e-book catalogue: the sample titles, built and signed with a demo key, applied
the way staff apply a monthly batch.

Generating 2,000 covers and EPUBs takes a while, so the signed batch is made once and kept in
the user's cache folder ($XDG_CACHE_HOME/kiosk, else ~/.cache/kiosk); a fresh demo data folder
then only applies it, which takes a second or two.
"""

from __future__ import annotations

import logging
import os
import shutil
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
    from content.build import build_batch
    from content.sample import make_sample_source
    from content.signing import keygen

    folder = folder or cache_dir() / f"sample-{count}"
    batch, public = folder / "batch", folder / "demo-signing.pub"
    if (batch / "manifest.json.sig").exists() and public.exists():
        return batch, public
    log.info("making the sample e-book batch of %d titles in %s (first time only)", count, folder)
    shutil.rmtree(folder, ignore_errors=True)
    work = folder.with_name(folder.name + ".partial")  # renamed when whole: a kill leaves no half
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    keygen(work / "demo-signing.key", work / "demo-signing.pub")
    source = make_sample_source(work / "source", count=count)
    build_batch(source, work / "batch", work / "demo-signing.key", SAMPLE_BATCH)
    shutil.rmtree(work / "source")
    os.replace(work, folder)
    return batch, public


def prepare(config: Config, count: int = SAMPLE_TITLES) -> None:
    """Give a demo data folder the sample catalogue unless it has one already."""
    from content.store import CatalogueStore

    store = CatalogueStore(config.catalogue_dir)
    if store.current_dir() is not None:
        return
    batch, public = sample_batch(count)
    if not config.batch_public_key_path.exists():  # so `kiosk content apply` works in the demo
        config.batch_public_key_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(public, config.batch_public_key_path)
    report = store.apply(batch, public)
    log.info("demo catalogue: %d sample titles applied", len(report.added))
