"""The kiosk's catalogue folder: versions, the atomic switch between them, and rollback.

    root/versions/<batch>-<n>/   catalogue.sqlite3, covers/, books/, applied.json
    root/current  -> versions/…  what the kiosk shows and serves
    root/previous -> versions/…  the state before the last apply

Applying checks the whole batch first: signature, manifest, every file's size and sha256, and
what it claims of the current catalogue. The new version is built beside the others under a
temporary name (unchanged files hard-linked from the current one, so it costs only its new
bytes), synced to disk, and only then does `current` change, by renaming a new link over it.
A refused batch leaves nothing behind; a power cut leaves `current` on a whole version.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from common.files import fsync_dir
from content.batch_source import MANIFEST, SIGNATURE, BatchSource
from content.catalogue import FILE_NAME, Catalogue, write_catalogue
from content.errors import BatchError, ContentError
from content.manifest import Entry, Manifest, parse_manifest
from content.signing import verify
from content.title import Title

log = logging.getLogger(__name__)
APPLIED = "applied.json"
BUILDING = ".building-"  # a version under construction; removed if found later


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
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"

    def current_dir(self) -> Path | None:
        return self._target("current")

    def previous_dir(self) -> Path | None:
        return self._target("previous")

    # --- apply ----------------------------------------------------------------------------

    def check(self, batch: Path, public_key: Path) -> ApplyReport:
        """Everything `apply` checks, every file's bytes included; changes nothing."""
        with BatchSource(batch) as source:
            manifest, _old, _current = self._checked(source, public_key)
            for ref in manifest.files().values():
                source.copy_checked(ref, None)
            return _report(manifest, version="")

    def apply(self, batch: Path, public_key: Path, *, now: dt.datetime | None = None
              ) -> ApplyReport:
        with self._locked(), BatchSource(batch) as source:
            # Files are checked as they are copied into the new version, before the switch.
            manifest, old, current = self._checked(source, public_key)
            self._clear_leftovers()
            building = self.versions_dir / f"{BUILDING}{manifest.batch}-{os.getpid()}"
            try:
                report = self._build(source, manifest, old, current, building, now)
            except BaseException:
                shutil.rmtree(building, ignore_errors=True)
                raise
            self._switch(building, report.version)
            log.info("applied batch %s as %s: %d added, %d updated, %d withdrawn",
                     report.batch, report.version, len(report.added), len(report.updated),
                     len(report.withdrawn))
            return report

    def _checked(self, source: BatchSource, public_key: Path
                 ) -> tuple[Manifest, dict[str, Title], Path | None]:
        manifest_data = source.read_small(MANIFEST)
        verify(manifest_data, source.read_small(SIGNATURE), public_key)
        manifest = parse_manifest(manifest_data)
        source.check_names(manifest.files())
        current = self.current_dir()
        old = _titles_of(current)
        self._check_claims(manifest, old, current)
        return manifest, old, current

    def _check_claims(self, manifest: Manifest, old: dict[str, Title],
                      current: Path | None) -> None:
        if current is not None and _applied(current).get("batch") == manifest.batch:
            raise BatchError(f"batch {manifest.batch} is already applied")
        for entry in manifest.entries:
            exists = entry.id in old
            if entry.action == "add" and exists:
                raise BatchError(f"title {entry.id} is added but the catalogue has it already "
                                 "(use update)")
            if entry.action != "add" and not exists:
                raise BatchError(f"title {entry.id} is to be {entry.action}d but the catalogue "
                                 "has no such title")

    def _build(self, source: BatchSource, manifest: Manifest, old: dict[str, Title],
               current: Path | None, building: Path, now: dt.datetime | None) -> ApplyReport:
        for folder in ("covers", "books"):
            (building / folder).mkdir(parents=True)
        changed = {e.id: e for e in manifest.entries}
        carried = [title_id for title_id in old if title_id not in changed]
        for title_id in carried:  # hard links: no new bytes on the card
            assert current is not None  # a title is carried over from the current version
            for relative in (old[title_id].cover, old[title_id].file):
                _link_or_copy(current / relative, building / relative)
        titles = [self._take(source, entry, manifest.batch, old, building)
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
              building: Path) -> Title:
        assert entry.title and entry.cover and entry.file
        cover = f"covers/{entry.id}.jpg"
        book = f"books/{entry.id}.{entry.title.format}"
        source.copy_checked(entry.cover, building / cover)
        source.copy_checked(entry.file, building / book)
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
                raise ContentError("there is no previous catalogue to go back to")
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

    def _clear_leftovers(self) -> None:
        if self.versions_dir.exists():
            for folder in self.versions_dir.glob(BUILDING + "*"):
                log.warning("removing %s, left by an apply that did not finish", folder.name)
                shutil.rmtree(folder, ignore_errors=True)

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
            raise ContentError("another apply or rollback is running on this catalogue") \
                from None

    def __exit__(self, *_exc) -> None:
        self.file.close()


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
