"""Batches for the content tests: a signing key pair, sample sources, and ways to spoil them."""

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

from content.build import build_batch
from content.sample import make_monthly_source, make_sample_source
from content.signing import keygen, sign


class Batches:
    def __init__(self, folder: Path, count: int = 30) -> None:
        self.folder = folder
        self.key, self.public = folder / "signing.key", folder / "signing.pub"
        keygen(self.key, self.public)
        self.source = make_sample_source(folder / "source", count=count)
        self.first = build_batch(self.source, folder / "2026-11", self.key, "2026-11").out
        monthly = make_monthly_source(folder / "monthly", count=5, first_id=count + 1,
                                      base_count=count, update=("000020",),
                                      withdraw=("000021", "000022"))
        self.second = build_batch(monthly, folder / "2026-12", self.key, "2026-12").out

    def copy(self, batch: Path, dest: Path) -> Path:
        return Path(shutil.copytree(batch, dest))


def edit_manifest(batch: Path, change, key: Path | None = None) -> None:
    """Change the manifest with `change(doc)`; re-sign it with `key` when given."""
    path = batch / "manifest.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    if key is not None:
        sign(path, key)


def tar_of(batch: Path, out: Path, extra=()) -> Path:
    """`batch` as a tar, plus `extra` members: (TarInfo, bytes or None)."""
    with tarfile.open(out, "w") as tar:
        for path in sorted(batch.rglob("*")):
            tar.add(path, arcname=path.relative_to(batch).as_posix(), recursive=False)
        for info, data in extra:
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return out


def tree(root: Path) -> dict:
    """Every path under `root` with its link target or content hash: to prove nothing changed."""
    if not root.exists():
        return {}
    found = {}
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[key] = "-> " + str(path.readlink())
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "dir"
    return found
