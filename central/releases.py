"""Releases: files published once for kiosks to fetch, a RAUC bundle or an e-book batch. The
rows live in the database (`releases`, `release_libraries`), the files in the releases folder
(`[central] releases_dir`), one file per release. Runs on whichever thread calls it: FastAPI's
worker threads, the command line.

A release is for some libraries or for all of them. A kiosk's current release of a kind is the
most recently published one, not withdrawn, for its library; withdrawing one makes the one
before it current again. The server stores and serves; it never signs and holds no key:
kiosks check each bundle's signature with their own keyring, and each batch's with their own
public key.

E-book batches are published in the order of their names (`2026-11`, then `2026-12`): a kiosk
that missed some applies every live batch of its library oldest first, so a batch that is not
newer than one live for the same library is refused.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from central import audit
from central.audit import AuditAction
from central.batches import read_batch
from central.bundles import read_bundle
from central.db import Conn, Database
from central.errors import NotFound, ReleaseRefused
from central.i18n import N_
from central.storage import utc_now
from common.batch_names import batch_order, is_older_batch
from common.files import fsync_dir
from common.versions import parse_version

log = logging.getLogger(__name__)
COPY_CHUNK = 1024 * 1024
INCOMING = "incoming"  # unfinished uploads and copies, beside the published files


class ReleaseKind(enum.StrEnum):
    SYSTEM = "system"        # a RAUC bundle for the kiosk's root file system (issue 14)
    CATALOGUE = "catalogue"  # an e-book batch .tar (issue 17); its version is the batch name


SUFFIXES = {ReleaseKind.SYSTEM: ".raucb", ReleaseKind.CATALOGUE: ".tar"}


@dataclass(frozen=True)
class Release:
    id: int
    kind: ReleaseKind
    version: str
    size: int
    sha256: str
    file: str                   # relative to the releases folder
    all_libraries: bool
    libraries: tuple[str, ...]  # empty when for all libraries
    published_at: str
    published_by: str
    withdrawn_at: str | None
    titles: int | None = None   # an e-book batch's title count; None for a system update

    @property
    def url(self) -> str:
        return f"/api/v1/releases/{self.id}/file"

    def for_library(self, library: str) -> bool:
        return self.all_libraries or library in self.libraries


@dataclass(frozen=True)
class Staged:
    """A complete file in the incoming folder, with what was computed while it was written."""
    path: Path
    size: int
    sha256: str


class Releases:
    def __init__(self, db: Database, folder: Path) -> None:
        self.db = db
        self.folder = Path(folder)

    @property
    def incoming(self) -> Path:
        return self.folder / INCOMING

    def path_of(self, release: Release) -> Path:
        return self.folder / release.file

    # Writing files --------------------------------------------------------------------------
    def stage_copy(self, source: BinaryIO, max_bytes: int) -> Staged:
        """Copies `source` into the incoming folder a chunk at a time, hashing as it writes;
        never holds the file in memory."""
        self.incoming.mkdir(parents=True, exist_ok=True)
        try:
            announced = os.fstat(source.fileno()).st_size
        except (OSError, AttributeError):  # not a file: the disk says when it is full
            announced = 0
        check_room(self.incoming, announced)
        path = self.incoming / f"copy-{secrets.token_hex(8)}.part"
        digest, size = hashlib.sha256(), 0
        try:
            with open(path, "xb") as out:
                while chunk := source.read(COPY_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ReleaseRefused(
                            f"the file is over {max_bytes // 2**20} MB ([central] "
                            "max_release_mb)", N_("The file is over {mb} MB."),
                            mb=str(max_bytes // 2**20))
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except OSError as e:
            path.unlink(missing_ok=True)
            raise disk_error(e) from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Staged(path, size, digest.hexdigest())

    # Publishing -----------------------------------------------------------------------------
    def publish(self, staged: Staged, kind: ReleaseKind, libraries: Iterable[str],
                all_libraries: bool, by: str, change: audit.Change | None = None) -> Release:
        """Makes a staged file a release: reads its version from the file itself, refuses an
        unknown library or a version already published for one of the libraries (a batch:
        one not newer than a live batch for one of them), then moves the file into place. The
        staged file is gone afterwards either way. `by` is the publisher the list names;
        `change` who did it for the audit log (default: `by`)."""
        try:
            return self._publish(staged, kind, tuple(sorted(set(libraries))), all_libraries,
                                 by, change or audit.Change(by))
        finally:
            staged.path.unlink(missing_ok=True)

    def _publish(self, staged: Staged, kind: ReleaseKind, libraries: tuple[str, ...],
                 all_libraries: bool, by: str, change: audit.Change) -> Release:
        if all_libraries == bool(libraries):
            raise ReleaseRefused("name the libraries (--library NAME, repeated) or say "
                                 "--all-libraries", N_("Choose the libraries, or all libraries."))
        if kind == ReleaseKind.CATALOGUE:
            batch = read_batch(staged.path)
            version, titles = batch.batch, batch.titles
        else:
            version, titles = read_bundle(staged.path).version, None
        with self.db.write() as conn:
            if conn.postgres:  # ids and the duplicate check, one publisher at a time
                conn.execute("LOCK TABLE releases IN SHARE ROW EXCLUSIVE MODE")
            known = {row[0] for row in conn.all("SELECT DISTINCT library FROM kiosks")}
            unknown = [name for name in libraries if name not in known]
            if unknown:
                raise ReleaseRefused(
                    f"no library named {', '.join(unknown)}; the libraries with kiosks are: "
                    f"{', '.join(sorted(known)) or 'none yet (kiosk-central kiosk add)'}",
                    N_("No library named {name}."), name=", ".join(unknown))
            if kind == ReleaseKind.CATALOGUE:
                _refuse_batch_out_of_order(conn, version, libraries, all_libraries)
            else:
                _refuse_same_version(conn, kind, version, libraries, all_libraries)
            release_id = int(conn.value("SELECT COALESCE(MAX(id), 0) + 1 FROM releases"))
            file = f"{kind}/{release_id}-{version}{SUFFIXES[kind]}"
            release = Release(release_id, kind, version, staged.size, staged.sha256, file,
                              all_libraries, () if all_libraries else libraries, utc_now(),
                              by, None, titles)
            conn.execute("INSERT INTO releases (id, kind, version, size, sha256, file, "
                         "all_libraries, published_at, published_by, withdrawn_at, titles) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                         (release.id, str(kind), version, release.size, release.sha256, file,
                          int(all_libraries), release.published_at, by, titles))
            conn.executemany("INSERT INTO release_libraries (release_id, library) VALUES (?, ?)",
                             [(release_id, name) for name in release.libraries])
            change.record(conn, AuditAction.RELEASE_PUBLISHED, f"release {release_id}", {
                "kind": str(kind), "version": version, "by": by,
                "libraries": "all libraries" if all_libraries else ", ".join(libraries)})
            # Into place before the commit: a row never points at a missing file.
            target = self.path_of(release)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged.path, target)
            fsync_dir(target.parent)
        log.info("release %d published: %s %s, %d bytes, sha256 %s, for %s, by %s",
                 release.id, kind, version, release.size, release.sha256,
                 "all libraries" if all_libraries else ", ".join(libraries), by)
        return release

    # Reading --------------------------------------------------------------------------------
    def all(self) -> list[Release]:
        """Newest first, withdrawn ones too."""
        with self.db.read() as conn:
            return list(_releases(conn, "", ()))

    def get(self, release_id: int) -> Release | None:
        with self.db.read() as conn:
            found = list(_releases(conn, "WHERE id = ?", (release_id,)))
        return found[0] if found else None

    def current(self, kind: ReleaseKind, library: str) -> Release | None:
        """The release of `kind` that a kiosk of `library` should have, or None."""
        with self.db.read() as conn:
            for release in _releases(conn, "WHERE kind = ? AND withdrawn_at IS NULL",
                                     (str(kind),)):
                if release.for_library(library):
                    return release
        return None

    def live(self, kind: ReleaseKind, library: str) -> list[Release]:
        """Every release of `kind` for a kiosk of `library` that is not withdrawn, oldest
        first: the batches a kiosk that missed some applies in turn."""
        with self.db.read() as conn:
            found = [r for r in _releases(conn, "WHERE kind = ? AND withdrawn_at IS NULL",
                                          (str(kind),)) if r.for_library(library)]
        return found[::-1]

    def current_for(self) -> dict[int, list[str]]:
        """For each release that is current somewhere, the libraries (with kiosks) whose
        kiosks it is current for."""
        with self.db.read() as conn:
            libraries = sorted(row[0] for row in conn.all("SELECT DISTINCT library FROM kiosks"))
            live = list(_releases(conn, "WHERE withdrawn_at IS NULL", ()))
        found: dict[int, list[str]] = {}
        for kind in ReleaseKind:
            for library in libraries:
                first = next((r for r in live if r.kind == kind and r.for_library(library)),
                             None)
                if first is not None:
                    found.setdefault(first.id, []).append(library)
        return found

    def for_kiosk(self, release_id: int, library: str) -> Release | None:
        """The release, if a kiosk of `library` may fetch it (not withdrawn, its library)."""
        release = self.get(release_id)
        if release is None or release.withdrawn_at or not release.for_library(library):
            return None
        return release

    def libraries(self) -> list[str]:
        with self.db.read() as conn:
            return sorted(row[0] for row in conn.all("SELECT DISTINCT library FROM kiosks"))

    # Withdrawing ----------------------------------------------------------------------------
    def withdraw(self, release_id: int, change: audit.Change) -> Release:
        """Kiosks stop seeing the release; its file is deleted (its row stays, for the list).
        Withdrawing twice changes nothing (and is audited once)."""
        with self.db.write() as conn:
            found = list(_releases(conn, "WHERE id = ?", (release_id,)))
            if not found:
                raise NotFound(f"no release {release_id}: kiosk-central release list shows "
                               "them")
            if found[0].withdrawn_at is None:
                conn.execute("UPDATE releases SET withdrawn_at = ? WHERE id = ?",
                             (utc_now(), release_id))
                change.record(conn, AuditAction.RELEASE_WITHDRAWN, f"release {release_id}",
                              {"kind": str(found[0].kind), "version": found[0].version})
            release = next(_releases(conn, "WHERE id = ?", (release_id,)))
        self.path_of(release).unlink(missing_ok=True)
        log.info("release %d (%s %s) withdrawn", release.id, release.kind, release.version)
        return release


def check_room(folder: Path, needed: int) -> None:
    """Refuses a file the releases folder has no room for, before a byte of it is written."""
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise ReleaseRefused(
            f"not enough space in {folder}: {free // 2**20} MB free, {needed // 2**20 + 1} MB "
            "needed; withdraw old releases (their files are deleted) or give releases_dir room",
            N_("The server has no room for this file: {free} MB free, {needed} MB needed."),
            free=str(free // 2**20), needed=str(needed // 2**20 + 1))


def disk_error(error: OSError) -> ReleaseRefused:
    """A release file that could not be written (a full disk, most likely), said for people."""
    log.error("cannot write a release file: %s", error)
    return ReleaseRefused(f"cannot write the file in the releases folder: {error.strerror}",
                          N_("The server could not store the file: {why}"),
                          why=error.strerror or str(error))


def _refuse_same_version(conn: Conn, kind: ReleaseKind, version: str,
                         libraries: tuple[str, ...], all_libraries: bool) -> None:
    # Kiosks compare versions without the build suffix: 0.2.0+1 and 0.2.0+2 are one version.
    key = parse_version(version)
    for other in _releases(conn, "WHERE kind = ? AND withdrawn_at IS NULL", (str(kind),)):
        if parse_version(other.version) != key:
            continue
        overlap = _overlap(other, libraries, all_libraries)
        if overlap:
            raise ReleaseRefused(
                f"version {version} is published already for {overlap} (release {other.id}, "
                f"{other.version}); give the new bundle a new version, or withdraw release "
                f"{other.id} first",
                N_("Version {version} is published already (release {id}). Give the new "
                   "bundle a new version, or withdraw that release first."),
                version=version, id=str(other.id))


def _refuse_batch_out_of_order(conn: Conn, batch: str, libraries: tuple[str, ...],
                               all_libraries: bool) -> None:
    """Refuses a batch that is not newer than every live batch for one of its libraries."""
    for other in _releases(conn, "WHERE kind = ? AND withdrawn_at IS NULL",
                           (str(ReleaseKind.CATALOGUE),)):
        overlap = _overlap(other, libraries, all_libraries)
        if not overlap or is_older_batch(other.version, batch):
            continue
        if batch_order(other.version) == batch_order(batch):
            raise ReleaseRefused(
                f"batch {batch} is published already for {overlap} (release {other.id}, "
                f"{other.version}); give the new batch a newer name (e.g. {batch}b), or "
                f"withdraw release {other.id} first",
                N_("Batch {batch} is published already (release {id}). Give the new batch a "
                   "newer name, or withdraw that release first."),
                batch=batch, id=str(other.id))
        raise ReleaseRefused(
            f"batch {batch} is older than batch {other.version}, published for {overlap} "
            f"(release {other.id}); kiosks apply batches in name order: give it a newer name, "
            f"or withdraw release {other.id} first",
            N_("Batch {batch} is older than batch {newer} (release {id}), which is published "
               "already. Kiosks apply batches in name order: give it a newer name, or withdraw "
               "that release first."),
            batch=batch, newer=other.version, id=str(other.id))


def _overlap(other: Release, libraries: tuple[str, ...], all_libraries: bool) -> str:
    """The libraries both `other` and a new release are for, said for people ('' if none)."""
    if all_libraries or other.all_libraries:
        return "all libraries" if other.all_libraries else ", ".join(other.libraries)
    return ", ".join(sorted(set(libraries) & set(other.libraries)))


def _releases(conn: Conn, where: str, params: tuple) -> Iterator[Release]:
    rows = conn.all("SELECT id, kind, version, size, sha256, file, all_libraries, "
                    f"published_at, published_by, withdrawn_at, titles FROM releases {where} "
                    "ORDER BY id DESC", params)
    if not rows:
        return
    libraries: dict[int, list[str]] = {}
    for release_id, library in conn.all("SELECT release_id, library FROM release_libraries "
                                        "ORDER BY library"):
        libraries.setdefault(int(release_id), []).append(library)
    for (release_id, kind, version, size, sha256, file, every, published_at, by,
         withdrawn_at, titles) in rows:
        yield Release(int(release_id), ReleaseKind(kind), version, int(size), sha256, file,
                      bool(every), tuple(libraries.get(int(release_id), ())), published_at,
                      by, withdrawn_at, None if titles is None else int(titles))
