"""Reading a batch as it arrives: a folder, or a .tar of one (plain or compressed).

Nothing here trusts the batch: tar members are looked at before any byte is read, only regular
files with plain names are accepted (no links, devices or paths out of the batch), and files
are copied one by one to where the store wants them while their sha256 is taken, never with
`extractall`.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import IO, Callable, Iterator

from content.errors import BatchError, BatchProblem
from content.manifest import FileRef, Where, check_path

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
FOLDERS = ("covers", "books")
MAX_MANIFEST = 32 * 1024 * 1024
CHUNK = 1024 * 1024


class BatchSource:
    """The files of one batch, by their path inside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._tar: tarfile.TarFile | None = None
        self._members: dict[str, tarfile.TarInfo] = {}
        if self.path.is_dir():
            self._names = set(self._folder_names())
        elif self.path.is_file():
            self._open_tar()
            self._names = set(self._members)
        else:
            raise BatchError(f"{self.path} 处没有批次 / no batch at {self.path}")

    def __enter__(self) -> "BatchSource":
        return self

    def __exit__(self, *_exc) -> None:
        if self._tar is not None:
            self._tar.close()

    def read_small(self, name: str) -> bytes:
        """manifest.json or its signature."""
        if name not in self._names:
            raise BatchError(f"批次里没有 {name} / the batch has no {name}")
        with self._open(name) as f:
            data = f.read(MAX_MANIFEST + 1)
        if len(data) > MAX_MANIFEST:
            raise BatchError(f"{name} is larger than {MAX_MANIFEST // (1024 * 1024)} MB")
        return data

    def check_names(self, expected: dict[str, FileRef]) -> None:
        """The batch holds exactly the manifest, its signature and the files it names."""
        missing = sorted(set(expected) - self._names)
        if missing:
            raise BatchError(f"批次缺少清单列出的 {len(missing)} 个文件，第一个是 {missing[0]}"
                             "（复制不完整？）/ the batch lacks "
                             f"{len(missing)} file(s) the manifest names, first {missing[0]}",
                             BatchProblem.DAMAGED)
        extra = sorted(self._names - set(expected) - {MANIFEST, SIGNATURE})
        if extra:
            raise BatchError(f"批次里有 {len(extra)} 个清单没有列出的文件，第一个是 {extra[0]} / "
                             f"the batch holds {len(extra)} file(s) the manifest does not name, "
                             f"first {extra[0]}", BatchProblem.DAMAGED)

    def copy_checked(self, ref: FileRef, destination: Path | None,
                     read: Callable[[int], None] | None = None) -> None:
        """Copy one file out of the batch (None: only read it), refusing it unless its size and
        sha256 match; `read` hears of every chunk's size, for a progress bar."""
        digest, size = hashlib.sha256(), 0
        with self._open(ref.path) as source, \
                (open(destination, "xb") if destination else io.BytesIO()) as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > ref.size:
                    break
                digest.update(chunk)
                if read:
                    read(len(chunk))
                if destination:
                    out.write(chunk)
            if destination:
                out.flush()
                os.fsync(out.fileno())
        if size != ref.size:
            raise BatchError(f"{ref.path} 不是清单所说的 {ref.size} 字节（已损坏）/ {ref.path} is "
                             f"not {ref.size} bytes as the manifest says", BatchProblem.DAMAGED)
        if digest.hexdigest() != ref.sha256:
            raise BatchError(f"{ref.path} 与清单里的 sha256 不符：已损坏或签名后被改动 / "
                             f"{ref.path} does not match its sha256 in the manifest: damaged or "
                             "changed after signing", BatchProblem.DAMAGED)

    # --- folders and tars -----------------------------------------------------------------

    def _folder_names(self) -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(self.path):
            for name in dirnames + filenames:
                full = Path(dirpath) / name
                relative = full.relative_to(self.path).as_posix()
                if full.is_symlink():
                    raise BatchError(f"{relative} in the batch is a link; batches hold plain "
                                     "files only")
                if name in filenames:
                    self._check_name(relative)
                    yield relative
                elif relative not in FOLDERS:
                    raise BatchError(f"unexpected folder {relative} in the batch")

    def _open_tar(self) -> None:
        try:
            self._tar = tarfile.open(self.path, "r:*")
            members = self._tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as e:
            # tarfile's own message lists every compression it tried, one per line.
            why = str(e).splitlines()[-1].lstrip("- ") if str(e) else type(e).__name__
            raise BatchError(f"{self.path.name} 不是可读的批次 tar 文件或文件夹 / "
                             f"{self.path.name} is not a readable tar file or batch folder "
                             f"({why})") from None
        for member in members:
            name = member.name.removeprefix("./")
            if member.isdir() and name.rstrip("/") in (*FOLDERS, "", "."):
                continue
            if not member.isfile():
                kind = "link" if member.issym() or member.islnk() else "special file"
                raise BatchError(f"{member.name} in the tar is a {kind}; batches hold plain "
                                 "files only")
            self._check_name(name)
            if name in self._members:
                raise BatchError(f"{name} appears twice in the tar")
            self._members[name] = member

    @staticmethod
    def _check_name(name: str) -> None:
        if name in (MANIFEST, SIGNATURE):
            return
        folder = name.split("/", 1)[0]
        check_path(name, folder if folder in FOLDERS else "covers",
                   Where(f"批次成员 {name!r}", f"batch member {name!r}"))

    def _open(self, name: str) -> IO[bytes]:
        if self._tar is None:
            return open(self.path / name, "rb")
        handle = self._tar.extractfile(self._members[name])
        assert handle is not None  # regular files only, checked on opening
        return handle
