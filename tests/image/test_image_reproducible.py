"""The build is reproducible. The image step run again on the same root tree (`./setup.sh
image --from-tree`) gives the same partition files, disk and .xz, byte for byte; and a second
build from nothing (`./setup.sh image` into an empty folder, with the first build's
SOURCE_DATE_EPOCH and update key) gives the same tree, so the same .img and .img.xz. The tree's
own checks say why when it would not: no time later than its build time, no .pyc that records
its source's time. Marker `image`: minutes of mkfs, genimage and xz; the build from nothing
takes about as long as the first one."""

from __future__ import annotations

import calendar
import hashlib
import os
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.image.conftest import find_image, image_out
from tests.system.phases import phase

pytestmark = [pytest.mark.image, pytest.mark.timeout(5400)]

# A .pyc's header: magic, flags (bit 0: hash-based, bit 1: checked), then a source time or hash.
PYC_HASH_BASED = 0b01


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_time(tree: Path) -> int:
    """The tree's SOURCE_DATE_EPOCH, as /etc/kiosk-release's BUILD line records it."""
    for line in (tree / "etc" / "kiosk-release").read_text().splitlines():
        if line.startswith("BUILD="):
            return calendar.timegm(time.strptime(line[6:], "%Y-%m-%dT%H:%M:%SZ"))
    raise AssertionError(f"{tree}/etc/kiosk-release has no BUILD line")


def update_key(out: Path) -> Path:
    """The key folder whose CA the first build's tree trusts: a second build must use it too
    (a development key is made at random for each build folder that has none)."""
    keyring = (out / "rootfs" / "etc" / "rauc" / "keyring.pem").read_bytes()
    candidates = [out / "dev-update-key", Path(os.environ.get("KIOSK_UPDATE_KEY") or
                  Path.home() / ".config" / "library-kiosk" / "update-key")]
    for folder in candidates:
        if (folder / "ca.cert.pem").is_file() and (folder / "ca.cert.pem").read_bytes() == keyring:
            return folder
    pytest.fail(f"none of {[str(c) for c in candidates]} holds the CA {out}/rootfs trusts: "
                "set KIOSK_UPDATE_KEY to the key folder the first build used")


@dataclass(frozen=True)
class Entry:
    """What the ext4 image keeps of one path in the tree (atime and ctime it does not)."""
    kind: str
    mode: int
    owner: tuple[int, int]
    mtime: int
    content: str  # sha256 of a file, a symlink's target, "" otherwise
    xattrs: tuple[tuple[str, bytes], ...]


def entry(path: Path) -> Entry:
    info = path.lstat()
    if stat.S_ISREG(info.st_mode):
        kind, content = "file", sha256(path)
    elif stat.S_ISLNK(info.st_mode):
        kind, content = "symlink", os.readlink(path)
    else:
        kind, content = ("dir" if stat.S_ISDIR(info.st_mode) else "other"), ""
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        names = []
    xattrs = tuple(sorted((name, os.getxattr(path, name, follow_symlinks=False))
                          for name in names))
    return Entry(kind, stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid),
                 int(info.st_mtime), content, xattrs)


def tree_entries(tree: Path) -> dict[str, Entry]:
    entries = {"/": entry(tree)}
    for folder, dirs, files in os.walk(tree):
        for name in dirs + files:
            path = Path(folder) / name
            entries["/" + str(path.relative_to(tree))] = entry(path)
    return entries


def tree_differences(first: Path, second: Path) -> list[str]:
    """Each path whose presence, kind, mode, owner, mtime, content or xattrs differ."""
    a, b = tree_entries(first), tree_entries(second)
    found = [f"only in the first: {p}" for p in sorted(a.keys() - b.keys())]
    found += [f"only in the second: {p}" for p in sorted(b.keys() - a.keys())]
    for path in sorted(a.keys() & b.keys()):
        if a[path] != b[path]:
            fields = [f"{name} {getattr(a[path], name)!r:.60} != {getattr(b[path], name)!r:.60}"
                      for name in Entry.__dataclass_fields__
                      if getattr(a[path], name) != getattr(b[path], name)]
            found.append(f"{path}: {'; '.join(fields)}")
    return found


def test_the_image_step_gives_the_same_bytes_from_the_same_tree(tmp_path):
    out = image_out()
    again = out / "check" / "again"
    subprocess.run(["rm", "-rf", str(again)], check=True)
    again.mkdir(parents=True)
    (again / "rootfs").symlink_to(out / "rootfs")
    with phase("image step again from the same tree (--from-tree)"):
        done = subprocess.run([str(ROOT / "setup.sh"), "image", "--from-tree", str(again)],
                              capture_output=True, text=True, check=False,
                              env=dict(os.environ))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    first = find_image(out)
    names = ["boot.vfat", "root.ext4", "data.ext4", first.name, first.name + ".xz"]
    # The time comes from the tree's /etc/kiosk-release (BUILD), not from this run.
    differ = [name for name in names if sha256(out / name) != sha256(again / name)]
    assert not differ, f"not the same bytes from the same tree: {differ}"


def test_nothing_in_the_tree_is_later_than_its_build_time():
    """What the build writes carries its clock unless clamped: two builds would differ."""
    tree = image_out() / "rootfs"
    limit = build_time(tree)
    later = [path for path, found in tree_entries(tree).items() if found.mtime > limit]
    assert not later, f"{len(later)} paths later than BUILD ({limit}), e.g. {later[:10]}"


def test_every_pyc_in_the_tree_checks_its_source_by_hash():
    """A .pyc that records its source's time would go stale when the time is clamped, and on a
    read-only root Python would compile that module again at every start."""
    tree = image_out() / "rootfs"
    by_time = []
    for folder, _dirs, files in os.walk(tree):
        for name in files:
            if name.endswith(".pyc"):
                with open(Path(folder) / name, "rb") as pyc:
                    flags = int.from_bytes(pyc.read(8)[4:8], "little")
                if not flags & PYC_HASH_BASED:
                    by_time.append(str(Path(folder, name).relative_to(tree)))
    assert not by_time, f"{len(by_time)} .pyc files record their source's time: {by_time[:10]}"


def test_a_second_build_from_nothing_gives_the_same_bytes():
    out = image_out()
    first = find_image(out)
    second = out / "check" / "from-nothing"
    subprocess.run(["rm", "-rf", str(second)], check=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(build_time(out / "rootfs")),
           "KIOSK_UPDATE_KEY": str(update_key(out))}
    with phase("the whole build again, from nothing"):
        done = subprocess.run([str(ROOT / "setup.sh"), "image", str(second)],
                              capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for line in done.stdout.splitlines():
        if line.startswith("setup: phase "):
            print(line)
    if (out / "packages.txt").read_text() != (second / "packages.txt").read_text():
        pytest.fail("the Debian mirror changed between the builds (packages.txt differs): "
                    "build both from the same mirror content")
    names = ["boot.vfat", "root.ext4", "data.ext4", first.name, first.name + ".xz"]
    differ = [name for name in names if sha256(out / name) != sha256(second / name)]
    if differ:
        paths = tree_differences(out / "rootfs", second / "rootfs")
        pytest.fail(f"two builds from nothing differ in {differ}; their trees in "
                    f"{len(paths)} paths:\n" + "\n".join(paths[:40]))
    subprocess.run(["rm", "-rf", str(second)], check=True)  # 6 GB: kept only when they differ
