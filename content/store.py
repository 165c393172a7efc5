"""The kiosk's catalogue folder: versions, the atomic switch between them, and rollback.

    root/versions/<batch>-<n>/   catalogue.sqlite3, covers/, books/, applied.json
    root/current  -> versions/…  what the kiosk shows and serves
    root/previous -> versions/…  the state before the last apply

Applying checks the whole batch first: signature, manifest, that it is newer than the current
batch (an older one would turn titles back; staff may allow it), every file's size and sha256,
what it claims of the current catalogue, and that its new bytes fit on the data partition.
The new version is built beside the others under a temporary name (unchanged files
hard-linked from the current one, so it costs only its new bytes), synced to disk, and only
then does `current` change, by renaming a new link over it. A refused batch leaves nothing
behind; a power cut leaves `current` on a whole version; its half-built folder (`.building-`)
is listed by `leftovers()` and removed at the next apply or the app's next start.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from common.batch_names import batch_order, is_older_batch
from common.files import fsync_dir
from content.batch_source import MANIFEST, SIGNATURE, BatchSource
from content.catalogue import FILE_NAME, Catalogue, write_catalogue
from content.errors import BatchError, BatchProblem, ContentError
from content.manifest import Entry, Manifest, parse_manifest
from content.signing import verify
from content.title import Title

log = logging.getLogger(__name__)
APPLIED = "applied.json"
BUILDING = ".building-"  # a version under construction; removed if found later
MB = 1024 * 1024
RESERVE_MB = 64  # left free on the data partition after a new version: the journal writes there
CATALOGUE_BYTES_PER_TITLE = 4096  # a new title's rows and index entries, for the space check

ACTION_WORDS = {"update": "更新", "withdraw": "下架"}
Progress = Callable[[int, int], None]  # (bytes of the batch's files checked so far, their total)


def space_needed(file_bytes: int, titles: int, catalogue_bytes: int) -> int:
    """Bytes an apply writes at its peak: the batch's files, its titles' rows and index
    entries, and the current catalogue twice over: the new file is built from rows staged in
    a file beside it (content/catalogue_write.py), and both exist until the build ends."""
    return file_bytes + titles * CATALOGUE_BYTES_PER_TITLE + 2 * catalogue_bytes


@dataclass(frozen=True)
class ApplyReport:
    batch: str
    version: str
    added: list[str]
    updated: list[str]
    withdrawn: list[str]


@dataclass(frozen=True)
class VersionInfo:
    name: str
    batch: str
    applied_at: str
    titles: int
    current: bool
    previous: bool


class CatalogueStore:
    def __init__(self, root: Path, *, reserve_mb: int = RESERVE_MB) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.reserve_bytes = reserve_mb * MB

    def current_dir(self) -> Path | None:
        return self._target("current")

    def previous_dir(self) -> Path | None:
        return self._target("previous")

    def current_batch(self) -> str | None:
        """The name of the batch the catalogue shows (None: no catalogue yet)."""
        current = self.current_dir()
        batch = _applied(current).get("batch") if current else None
        return batch if isinstance(batch, str) else None

    # --- apply ----------------------------------------------------------------------------

    def check(self, batch: Path, public_key: Path, *, allow_older: bool = False,
              progress: Progress | None = None) -> ApplyReport:
        """Everything `apply` checks, every file's bytes included; changes nothing."""
        with BatchSource(batch) as source:
            manifest, _old, _current = self._checked(source, public_key, allow_older)
            counter = _Counter(manifest, progress)
            for ref in manifest.files().values():
                source.copy_checked(ref, None, counter.add)
            return _report(manifest, version="")

    def apply(self, batch: Path, public_key: Path, *, allow_older: bool = False,
              progress: Progress | None = None, now: dt.datetime | None = None
              ) -> ApplyReport:
        with self._locked(), BatchSource(batch) as source:
            # Files are checked as they are copied into the new version, before the switch.
            manifest, old, current = self._checked(source, public_key, allow_older)
            self._remove_leftovers()
            self._check_space(manifest, current)
            building = self.versions_dir / f"{BUILDING}{manifest.batch}-{os.getpid()}"
            try:
                report = self._build(source, manifest, old, current, building, now,
                                     _Counter(manifest, progress))
            except BaseException as e:
                shutil.rmtree(building, ignore_errors=True)
                if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
                    # Room was checked first: something else filled the partition meanwhile.
                    raise BatchError(
                        f"导入批次 {manifest.batch} 时数据分区写满了；没有任何改动，请腾出空间后"
                        "再导入 / the data partition filled up while batch "
                        f"{manifest.batch} was being applied; nothing was changed: free some "
                        "space and apply it again", BatchProblem.NO_SPACE) from None
                raise
            self._switch(building, report.version)
            log.info("applied batch %s as %s: %d added, %d updated, %d withdrawn",
                     report.batch, report.version, len(report.added), len(report.updated),
                     len(report.withdrawn))
            return report

    def _checked(self, source: BatchSource, public_key: Path, allow_older: bool
                 ) -> tuple[Manifest, dict[str, Title], Path | None]:
        manifest_data = source.read_small(MANIFEST)
        verify(manifest_data, source.read_small(SIGNATURE), public_key)
        manifest = parse_manifest(manifest_data)
        source.check_names(manifest.files())
        current = self.current_dir()
        self._check_order(manifest.batch, allow_older)
        old = _titles_of(current)
        self._check_claims(manifest, old)
        return manifest, old, current

    def _check_order(self, batch: str, allow_older: bool) -> None:
        """No batch twice, and no older batch over a newer one: it would turn titles back."""
        current = self.current_batch()
        if current is None:
            return
        if batch_order(batch) == batch_order(current):
            raise BatchError(f"批次 {batch} 已应用 / batch {batch} is already applied",
                             BatchProblem.ALREADY_APPLIED)
        if is_older_batch(batch, current) and not allow_older:
            raise BatchError(
                f"批次 {batch} 比当前目录的批次 {current} 旧，未应用；要回到上一个目录请用 "
                f"rollback，确需应用旧批次请加 --allow-older / batch {batch} is older than the "
                f"catalogue's batch {current} and was not applied: to go back to the catalogue "
                "before the last apply use `kiosk content rollback`; to apply the older batch "
                "anyway, say --allow-older", BatchProblem.OLDER)

    @staticmethod
    def _check_claims(manifest: Manifest, old: dict[str, Title]) -> None:
        for entry in manifest.entries:
            exists = entry.id in old
            if entry.action == "add" and exists:
                raise BatchError(f"书目 {entry.id} 要新增，但目录里已有（应为 update）/ title "
                                 f"{entry.id} is added but the catalogue has it already (use "
                                 "update)", BatchProblem.DOES_NOT_FIT)
            if entry.action != "add" and not exists:
                raise BatchError(f"书目 {entry.id} 要{ACTION_WORDS[entry.action]}，但目录里没有"
                                 f"这一种（先应用之前的批次？）/ title {entry.id} is to be "
                                 f"{entry.action}d but the catalogue has no such title (apply "
                                 "the batches before it first?)", BatchProblem.DOES_NOT_FIT)

    def _check_space(self, manifest: Manifest, current: Path | None) -> None:
        """The new version's own bytes (carried titles are hard links) plus the reserve must
        fit, or nothing is built: a full data partition stops the journal."""
        needed = space_needed(sum(ref.size for ref in manifest.files().values()),
                              len(manifest.entries),
                              (current / FILE_NAME).stat().st_size if current else 0)
        st = os.statvfs(self.versions_dir)
        free = st.f_bavail * st.f_frsize
        if needed + self.reserve_bytes > free:
            raise BatchError(
                f"数据分区空间不足：批次 {manifest.batch} 需要 {_mb(needed)}（另留 "
                f"{_mb(self.reserve_bytes)}），只剩 {_mb(free)}；请删除不用的文件或换更大的存储卡"
                " / "
                f"not enough room on the data partition for batch {manifest.batch}: it needs "
                f"{_mb(needed)} plus a reserve of {_mb(self.reserve_bytes)}, and "
                f"{_mb(free)} is free; free some space or use a larger card",
                BatchProblem.NO_SPACE)

    def _build(self, source: BatchSource, manifest: Manifest, old: dict[str, Title],
               current: Path | None, building: Path, now: dt.datetime | None,
               counter: _Counter) -> ApplyReport:
        for folder in ("covers", "books"):
            (building / folder).mkdir(parents=True)
        changed = {e.id: e for e in manifest.entries}
        carried = [title_id for title_id in old if title_id not in changed]
        for title_id in carried:  # hard links: no new bytes on the card
            assert current is not None  # a title is carried over from the current version
            for relative in (old[title_id].cover, old[title_id].file):
                _link_or_copy(current / relative, building / relative)
        titles = [self._take(source, entry, manifest.batch, old, building, counter)
                  for entry in manifest.entries if entry.action != "withdraw"]
        write_catalogue(building / FILE_NAME, titles, carried=carried,
                        carried_from=current / FILE_NAME if current else None)
        report = _report(manifest, self._version_name(manifest.batch))
        applied = {"batch": manifest.batch, "created": manifest.created,
                   "applied_at": (now or dt.datetime.now(dt.timezone.utc)).isoformat(
                       timespec="seconds"),
                   "added": report.added, "updated": report.updated,
                   "withdrawn": report.withdrawn}
        (building / APPLIED).write_text(json.dumps(applied, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        os.sync()  # every byte on the card before `current` may point here
        return report

    @staticmethod
    def _take(source: BatchSource, entry: Entry, batch: str, old: dict[str, Title],
              building: Path, counter: _Counter) -> Title:
        assert entry.title and entry.cover and entry.file
        cover = f"covers/{entry.id}.jpg"
        book = f"books/{entry.id}.{entry.title.format}"
        source.copy_checked(entry.cover, building / cover, counter.add)
        source.copy_checked(entry.file, building / book, counter.add)
        added = old[entry.id].added if entry.id in old else batch
        return Title(**{**entry.title.__dict__, "cover": cover, "file": book, "added": added})

    # --- switching ------------------------------------------------------------------------

    def _switch(self, building: Path, version: str) -> None:
        final = self.versions_dir / version
        os.rename(building, final)
        current = self._target("current")
        if current is not None:
            self._point("previous", current.name)
        self._point("current", version)
        self._prune()

    def rollback(self) -> str:
        """Back to the catalogue before the last apply; the one left becomes `previous`."""
        with self._locked():
            current, previous = self.current_dir(), self.previous_dir()
            if previous is None or current is None:
                raise ContentError("没有可回退的上一个目录 / there is no previous catalogue to "
                                   "go back to")
            self._point("current", previous.name)
            self._point("previous", current.name)
            log.info("rolled back the catalogue to %s", previous.name)
            return previous.name

    def _point(self, link: str, version: str) -> None:
        temporary = self.root / f".{link}.new"
        temporary.unlink(missing_ok=True)
        os.symlink(f"versions/{version}", temporary)
        os.replace(temporary, self.root / link)
        fsync_dir(self.root)

    def _target(self, link: str) -> Path | None:
        path = self.root / link
        if not path.is_symlink() or not (path / FILE_NAME).is_file():
            return None
        return path.resolve()

    def _version_name(self, batch: str) -> str:
        taken = {p.name for p in self.versions_dir.iterdir()} if self.versions_dir.exists() else ()
        n = 1
        while f"{batch}-{n}" in taken:
            n += 1
        return f"{batch}-{n}"

    def _prune(self) -> None:
        """Keep only current and previous: two versions on the card, never more."""
        keep = {p.name for p in (self.current_dir(), self.previous_dir()) if p}
        for folder in self.versions_dir.iterdir():
            if folder.name not in keep and not folder.name.startswith(BUILDING):
                shutil.rmtree(folder, ignore_errors=True)

    def leftovers(self) -> list[str]:
        """Versions an apply began and never finished (a power cut, a kill): wasted space
        until the next apply or the app's next start removes them."""
        if not self.versions_dir.exists():
            return []
        return sorted(p.name for p in self.versions_dir.glob(BUILDING + "*"))

    def clear_leftovers(self) -> list[str]:
        """Remove the leftovers, unless an apply is running now (its folder is no leftover);
        returns the names removed."""
        if not self.leftovers():
            return []
        try:
            with self._locked():
                return self._remove_leftovers()
        except ContentError:  # BUSY: the apply that holds the lock cleans up after itself
            return []

    def _remove_leftovers(self) -> list[str]:
        removed = self.leftovers()
        for name in removed:
            log.warning("removing %s, left by an apply that did not finish", name)
            shutil.rmtree(self.versions_dir / name, ignore_errors=True)
        return removed

    def _locked(self):
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        return _Lock(self.root / ".lock")

    # --- listing --------------------------------------------------------------------------

    def versions(self) -> list[VersionInfo]:
        current, previous = self.current_dir(), self.previous_dir()
        found: list[VersionInfo] = []
        if not self.versions_dir.exists():
            return found
        for folder in sorted(self.versions_dir.iterdir()):
            if folder.name.startswith(BUILDING) or not (folder / FILE_NAME).is_file():
                continue
            applied = _applied(folder)
            found.append(VersionInfo(folder.name, applied.get("batch", "?"),
                                     applied.get("applied_at", "?"), _count(folder),
                                     folder == current, folder == previous))
        return found


class _Lock:
    """One apply or rollback at a time, also across processes."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.file = open(self.path, "a")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise ContentError("另一个应用或回退正在进行，请稍后再试 / another apply or rollback "
                               "is running on this catalogue; try again when it has finished",
                               BatchProblem.BUSY) from None

    def __exit__(self, *_exc) -> None:
        self.file.close()


class _Counter:
    """Adds up the bytes read for a progress bar: (done, total) after every chunk."""

    def __init__(self, manifest: Manifest, progress: Progress | None) -> None:
        self.total = sum(ref.size for ref in manifest.files().values())
        self.done = 0
        self.progress = progress
        if progress:
            progress(0, self.total)

    def add(self, size: int) -> None:
        self.done += size
        if self.progress:
            self.progress(self.done, self.total)


def _mb(n: int) -> str:
    return f"{n / MB:.0f} MB"


def _report(manifest: Manifest, version: str) -> ApplyReport:
    return ApplyReport(manifest.batch, version,
                       *([e.id for e in manifest.entries if e.action == action]
                         for action in ("add", "update", "withdraw")))


def _titles_of(version: Path | None) -> dict[str, Title]:
    if version is None:
        return {}
    catalogue = Catalogue.open(version)
    try:
        return {title.id: title for title in catalogue.all_titles()}
    finally:
        catalogue.close()


def _applied(version: Path) -> dict:
    try:
        return json.loads((version / APPLIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _count(version: Path) -> int:
    try:
        db = sqlite3.connect(f"{(version / FILE_NAME).resolve().as_uri()}?mode=ro", uri=True)
        try:
            return db.execute("SELECT count(*) FROM titles").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return 0


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system, or one without hard links
        shutil.copy2(source, destination)
