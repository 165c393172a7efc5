"""The image step is reproducible: run again on the same root tree (`./setup.sh image
--from-tree`, into a second folder whose rootfs is the first's), it gives the same partition
files, the same disk and the same .xz, byte for byte. (Two root trees built apart still differ:
bench/RESULTS.md says where.) Marker `image`: minutes of mkfs, genimage and xz."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from tests.conftest import ROOT
from tests.image.conftest import find_image, image_out
from tests.system.phases import phase

pytestmark = [pytest.mark.image, pytest.mark.timeout(3600)]


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
