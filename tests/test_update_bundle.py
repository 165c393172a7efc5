"""The update key, RAUC's files in the image's tree and the signed bundle (image/update.sh,
sourced by setup.sh), made for real here: openssl keys, a small ext4 slot image made with
mkfs.ext4 -d, `rauc bundle`, then `rauc info` with the tree's keyring as a kiosk checks it.

Installing needs dm-verity and a kiosk (tests/image/test_update.py, in QEMU); here bundles are
only made and inspected. Skipped with the reason without rauc, mksquashfs or mkfs.ext4, an error
under CI (setup.sh's APT_PACKAGES installs them).
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_units import source_setup

COMPATIBLE = "library-kiosk-rpi-arm64"


def why_not() -> str | None:
    missing = [tool for tool in ("rauc", "mksquashfs", "mkfs.ext4", "openssl")
               if not shutil.which(tool)]
    reason = f"needs {', '.join(missing)} (./setup.sh deps installs them)" if missing else None
    if reason and os.environ.get("CI"):
        raise RuntimeError(f"the bundle tests cannot run in CI: {reason}")
    return reason


needs_tools = pytest.mark.skipif(why_not() is not None, reason=why_not() or "")


def bash(script: str, key_dir: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """setup.sh's functions with the project key folder at `key_dir` (never ~/.config)."""
    os.environ["KIOSK_UPDATE_KEY"] = str(key_dir)
    try:
        return source_setup(script, cwd)
    finally:
        del os.environ["KIOSK_UPDATE_KEY"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@needs_tools
def test_update_key_is_made_once_with_private_keys_closed(tmp_path):
    key = tmp_path / "update-key"
    made = bash(f'update_key "{key}"', key)
    assert made.returncode == 0, made.stderr
    assert mode(key) == 0o700
    assert mode(key / "ca.key.pem") == mode(key / "signing.key.pem") == 0o600
    assert mode(key / "ca.cert.pem") == 0o644
    # What to keep secret, and where to back it up, is said.
    assert "SECRET: the CA's private key" in made.stdout and "back up" in made.stdout
    verified = subprocess.run(["openssl", "verify", "-CAfile", key / "ca.cert.pem",
                               key / "signing.cert.pem"], capture_output=True, text=True,
                              check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    before = (key / "ca.key.pem").read_bytes()
    again = bash(f'update_key "{key}"', key)
    assert again.returncode != 0 and "already holds an update key" in again.stderr
    assert (key / "ca.key.pem").read_bytes() == before


@needs_tools
def test_the_tree_gets_rauc_config_and_the_projects_ca(tmp_path):
    key = tmp_path / "update-key"
    assert bash(f'make_update_key "{key}"', key).returncode == 0
    tree = tmp_path / "out" / "rootfs"
    tree.mkdir(parents=True)
    done = bash(f'install_update_config "{tree}"', key)
    assert done.returncode == 0, done.stderr
    assert "DEVELOPMENT" not in done.stderr
    assert (tree / "etc/rauc/keyring.pem").read_bytes() == (key / "ca.cert.pem").read_bytes()
    conf = configparser.ConfigParser()
    conf.read(tree / "etc/rauc/system.conf")
    assert dict(conf["system"]) == {
        "compatible": COMPATIBLE, "bootloader": "uboot", "boot-attempts-primary": "1",
        "boot-attempts": "3", "data-directory": "/data/rauc", "mountprefix": "/run/rauc",
        "bundle-formats": "-plain"}
    assert conf["keyring"]["path"] == "/etc/rauc/keyring.pem"
    assert {name: dict(conf[name]) for name in conf.sections() if name.startswith("slot.")} == {
        "slot.rootfs.0": {"device": "/dev/disk/by-partuuid/4b494f53-02", "type": "ext4",
                          "bootname": "A"},
        "slot.rootfs.1": {"device": "/dev/disk/by-partuuid/4b494f53-03", "type": "ext4",
                          "bootname": "B"}}
    assert "/data/rauc" in (tree / "etc/tmpfiles.d/kiosk-rauc.conf").read_text()


@needs_tools
def test_without_a_project_key_a_development_key_is_made_loudly(tmp_path):
    tree = tmp_path / "out" / "rootfs"
    tree.mkdir(parents=True)
    done = bash(f'install_update_config "{tree}"', tmp_path / "no-key-here")
    assert done.returncode == 0, done.stderr
    assert "WARNING" in done.stderr and "A fleet needs its own key" in done.stderr
    dev = tmp_path / "out" / "dev-update-key"
    assert (tree / "etc/rauc/keyring.pem").read_bytes() == (dev / "ca.cert.pem").read_bytes()
    assert not (tmp_path / "no-key-here").exists()


def slot_image(out: Path, version: str) -> None:
    """OUT as the image build leaves it, small: rootfs/etc/kiosk-release and root.ext4 (an
    ext4 holding the same file, with incompressible bytes so the bundle is not empty)."""
    content = out / "content"
    (content / "etc").mkdir(parents=True)
    release = f"VERSION={version}\nBUILD=2026-12-06T00:00:00Z\nCOMPATIBLE={COMPATIBLE}\n"
    (content / "etc/kiosk-release").write_text(release)
    (content / "etc/noise").write_bytes(os.urandom(64 * 1024))
    (out / "rootfs/etc").mkdir(parents=True)
    (out / "rootfs/etc/kiosk-release").write_text(release)
    subprocess.run(["truncate", "-s", "8M", out / "root.ext4"], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", content, out / "root.ext4"], check=True)


def rauc_info(bundle: Path, keyring: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["rauc", "info", "--output-format=json", "--keyring", keyring, bundle],
                          capture_output=True, text=True, timeout=60, check=False)


@needs_tools
def test_bundle_wraps_the_slot_image_signed_for_the_trees_keyring(tmp_path):
    key, out = tmp_path / "update-key", tmp_path / "out"
    assert bash(f'make_update_key "{key}"', key).returncode == 0
    slot_image(out, "0.2.0")
    assert bash(f'install_update_config "{out}/rootfs"', key).returncode == 0
    made = bash(f'build_bundle "{out}"', key)
    assert made.returncode == 0, made.stdout + made.stderr
    bundle = out / "kiosk-0.2.0-arm64.raucb"
    assert f"the bundle is {bundle}" in made.stdout
    info = rauc_info(bundle, out / "rootfs/etc/rauc/keyring.pem")
    assert info.returncode == 0, info.stderr
    manifest = json.loads(info.stdout)
    assert (manifest["compatible"], manifest["version"]) == (COMPATIBLE, "0.2.0")
    [image] = manifest["images"]
    # The same bytes as the image's slot.
    assert image["rootfs"]["filename"] == "root.ext4"
    assert image["rootfs"]["checksum"] == hashlib.sha256(
        (out / "root.ext4").read_bytes()).hexdigest()
    assert not (out / "bundle").exists()
    # A kiosk's RAUC reads our system.conf and accepts the bundle's format (verity).
    conf = tmp_path / "system.conf"
    conf.write_text((out / "rootfs/etc/rauc/system.conf").read_text().replace(
        "/etc/rauc/keyring.pem", str(out / "rootfs/etc/rauc/keyring.pem")))
    checked = subprocess.run(["rauc", "--conf", conf, "info", bundle], capture_output=True,
                             text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "Bundle Format: \tverity" in checked.stdout


@needs_tools
def test_a_bundle_signed_with_another_key_is_refused(tmp_path):
    ours, theirs, out = tmp_path / "ours", tmp_path / "theirs", tmp_path / "out"
    for key in (ours, theirs):
        assert bash(f'make_update_key "{key}"', key).returncode == 0
    slot_image(out, "0.2.0")
    assert bash(f'install_update_config "{out}/rootfs"', ours).returncode == 0
    # Signed by another project's key, checked against ours: build_bundle itself refuses it.
    made = bash(f'build_bundle "{out}"', theirs)
    assert made.returncode != 0
    info = rauc_info(out / "kiosk-0.2.0-arm64.raucb", ours / "ca.cert.pem")
    assert info.returncode != 0 and "signature" in info.stderr.lower()


def test_bundle_without_an_image_builds_it_first_or_says_what_to_run(tmp_path):
    # The image build stands in here (a real one takes an hour): the tree when OUT has none,
    # then the image, each called with OUT.
    stubs = ('build_rootfs() { echo "$1" >> "$1/asked"; mkdir -p "$1/rootfs/etc"; '
             'echo VERSION=9 > "$1/rootfs/etc/kiosk-release"; }; '
             'build_image() { echo "image $1" >> "$1/asked"; return 1; }; ')
    asked = bash(stubs + f'build_bundle "{tmp_path}"', tmp_path / "key")
    assert asked.returncode != 0 and "no root tree yet: building it first" in asked.stdout
    assert (tmp_path / "asked").read_text().split("\n")[:2] == [str(tmp_path),
                                                               f"image {tmp_path}"]
    (tmp_path / "asked").unlink()
    again = bash(stubs + f'build_bundle "{tmp_path}"', tmp_path / "key")  # the tree is there
    assert again.returncode != 0 and "no image yet: building it first" in again.stdout
    assert (tmp_path / "asked").read_text().split() == ["image", str(tmp_path)]
    alone = bash(f'unset -f build_image; build_bundle "{tmp_path}"', tmp_path / "key")
    assert alone.returncode != 0 and "run ./setup.sh image" in alone.stderr
