"""The SD image's own files, checked fast without building it: boot.scr compiles, the boot
counter's first state decodes as Linux reads it, the boot partition's kiosk.toml sets nothing,
README.txt puts Chinese first, the disk genimage lays out is the contract's, and the partition
images are the same bytes for the same input. The bash under test is image/build.sh's,
sourced through setup.sh as `./setup.sh image` runs it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

BOOT = ROOT / "image" / "boot"
MIB = 1024 * 1024
CONTRACT_SIGNATURE = "0x4b494f53"


def need(*tools: str) -> None:
    missing = [tool for tool in tools if not shutil.which(tool)]
    if missing:
        reason = f"needs {', '.join(missing)} (./setup.sh image installs them)"
        if os.environ.get("CI"):
            raise RuntimeError(reason)
        pytest.skip(reason)


def build_sh(script: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    """Runs `script` in bash with setup.sh (and so image/build.sh) sourced."""
    done = subprocess.run(["bash", "-c", f'source "{ROOT}/setup.sh" && {script}'], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", **env})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def variable(name: str) -> str:
    return build_sh(f'echo "${{{name}}}"').stdout.strip()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_boot_cmd_compiles_to_a_u_boot_script(tmp_path):
    need("mkimage", "dumpimage")
    scr = tmp_path / "boot.scr"
    build_sh(f'boot_script "{BOOT / "boot.cmd"}" "{scr}"')
    listed = subprocess.run(["dumpimage", "-l", str(scr)], capture_output=True, text=True,
                            check=True).stdout
    assert "Script" in listed and "AArch64" in listed, listed
    text = (BOOT / "boot.cmd").read_text()
    # The contract's names and places: the counter's file, variables, slots' PARTUUIDs.
    for needed in ("kiosk-boot.env", "BOOT_ORDER", "BOOT_A_LEFT", "BOOT_B_LEFT",
                   "PARTUUID=4b494f53-02", "PARTUUID=4b494f53-03", "rauc.slot=", " ro ",
                   "env import -c", "env export -c -s", "fatwrite", "${fdtcontroladdr}",
                   "/boot/vmlinuz", "/boot/initrd.img"):
        assert needed in text, needed
    assert "uboot.env" not in text.replace("# ", "")  # U-Boot on the Pi would take it whole


def test_the_boot_counter_starts_as_the_contract_says(tmp_path):
    need("mkenvimage", "fw_printenv")
    blob = tmp_path / "kiosk-boot.env"
    build_sh(f'boot_env "{BOOT / "kiosk-boot.env.txt"}" "{blob}"')
    assert blob.stat().st_size == 0x4000
    config = tmp_path / "fw_env.config"
    config.write_text(f"{blob} 0x0 0x4000\n")
    shown = subprocess.run(["fw_printenv", "-c", str(config)], capture_output=True, text=True,
                           check=True).stdout
    assert sorted(shown.splitlines()) == ["BOOT_A_LEFT=3", "BOOT_B_LEFT=0", "BOOT_ORDER=A B"]


def test_the_root_tree_reads_the_counter_where_u_boot_keeps_it(tmp_path):
    """/etc/fw_env.config, /etc/kiosk-release and the fstab the tree gets (no chroot needed)."""
    tree = tmp_path / "tree"
    (tree / "etc" / "initramfs-tools").mkdir(parents=True)
    build_sh(f'tree_base_files "{tree}"')
    fstab = (tree / "etc" / "fstab").read_text()
    assert re.search(r"^/dev/root\s+/\s+ext4\s+ro", fstab, re.M), fstab
    assert re.search(r"^PARTUUID=4b494f53-01\s+/boot/firmware\s+vfat\s+\S*rw\S*nofail", fstab,
                     re.M), fstab
    modules = (tree / "etc" / "initramfs-tools" / "modules").read_text().split()
    assert {"ext4", "virtio_blk", "virtio_pci", "mmc_block", "sdhci_iproc", "bcm2835"} <= set(
        modules)


def commented_toml() -> str:
    return build_sh('commented_kiosk_toml systemd/kiosk.toml.example').stdout


def test_the_boot_partitions_kiosk_toml_sets_nothing_but_shows_every_option():
    text = commented_toml()
    assert tomllib.loads(text) == {}
    example = tomllib.loads((ROOT / "systemd" / "kiosk.toml.example").read_text())
    for section, options in example.items():
        assert f"#[{section}]\n" in text, section
        for option in options:
            assert re.search(rf"^#{option} = ", text, re.M), f"[{section}] {option}"
    # Uncommenting a section's lines gives what the example says.
    kiosk_part = text[text.index("#[kiosk]"):text.index("#[display]")]
    uncommented = re.sub(r"^#(?=[\[a-z])", "", kiosk_part, flags=re.M)
    assert tomllib.loads(uncommented) == {"kiosk": example["kiosk"]}


def test_the_kiosk_toml_template_over_the_installed_config_changes_nothing(tmp_path):
    """As the kiosk reads them: /etc/kiosk/kiosk.toml, then the boot partition's file."""
    from kiosk import config

    installed, template = tmp_path / "etc.toml", tmp_path / "boot.toml"
    installed.write_text((ROOT / "systemd" / "kiosk.toml.example").read_text())
    template.write_text(commented_toml())
    def settings(files):  # what the kiosk runs with, not which files it read
        return dataclasses.replace(config.load_files(files), sources=())

    assert settings([installed, template]) == settings([installed])
    assert settings([template]) == settings([])


def test_the_readme_is_chinese_first_then_english():
    text = (BOOT / "README.txt").read_text(encoding="utf-8")
    first_chinese = re.search(r"[\u4e00-\u9fff]", text).start()
    english = text.index("Library self-service kiosk")
    assert first_chinese < 10 < english
    assert not re.search(r"[\u4e00-\u9fff]", text[english:]), "Chinese in the English part"
    for name in ("kiosk.toml", "wifi.toml", "authorized_keys", "content-signing.pub",
                 "kiosk-boot.env", "config.txt",
                 "u-boot.bin", "boot.scr", "docs/image.md"):
        assert text.count(name) >= 2, name  # in both languages


def test_genimage_lays_out_the_contracts_disk(tmp_path):
    """The real genimage on sparse stand-ins of the partition files, with the build's sizes."""
    need("genimage", "sfdisk")
    sizes = {name: variable(name) for name in ("BOOT_SIZE", "SLOT_SIZE", "DATA_SIZE")}
    assert variable("DISK_SIGNATURE") == CONTRACT_SIGNATURE
    assert sizes["BOOT_SIZE"] == "256M"
    for name, size in (("boot.vfat", "BOOT_SIZE"), ("root.ext4", "SLOT_SIZE"),
                       ("data.ext4", "DATA_SIZE")):
        with open(tmp_path / name, "wb") as part:
            part.truncate(int(sizes[size][:-1]) * {"M": MIB, "G": 1024 * MIB}[sizes[size][-1]])
    build_sh(f'disk_image "{tmp_path}" disk.img')
    table = json.loads(subprocess.run(["sfdisk", "--json", str(tmp_path / "disk.img")],
                                      capture_output=True, text=True, check=True).stdout)
    table = table["partitiontable"]
    assert table["label"] == "dos" and table["id"] == CONTRACT_SIGNATURE
    parts = table["partitions"]
    assert [p["type"] for p in parts] == ["c", "83", "83", "83"]
    assert parts[0].get("bootable") and parts[0]["size"] * 512 == 256 * MIB
    assert parts[1]["size"] == parts[2]["size"] >= 1536 * MIB // 512
    assert parts[3]["size"] * 512 == os.path.getsize(tmp_path / "data.ext4")
    assert all(p["start"] * 512 % MIB == 0 for p in parts), "partitions not MiB-aligned"


def test_the_fat_partition_is_the_same_bytes_for_the_same_files(tmp_path):
    need("mkfs.vfat", "mcopy")
    images = []
    for attempt in range(2):
        files = tmp_path / f"files{attempt}"
        files.mkdir()
        for name in (("config.txt", "boot.scr") if attempt else ("boot.scr", "config.txt")):
            (files / name).write_text(name)
        build_sh(f'find "{files}" -exec touch -d "@$SOURCE_DATE_EPOCH" {{}} + && '
                 f'fat_image "{files}" "{tmp_path}/boot{attempt}.vfat"')
        images.append(sha256(tmp_path / f"boot{attempt}.vfat"))
    assert images[0] == images[1]
    label = subprocess.run(["blkid", "-o", "export", str(tmp_path / "boot0.vfat")],
                           capture_output=True, text=True, check=False).stdout
    if label:  # blkid may be missing: the bytes above are what matters
        assert "LABEL=RASPIFIRM" in label and "UUID=4B49-4F53" in label, label


def test_an_ext4_partition_is_the_same_bytes_for_the_same_tree(tmp_path):
    need("mkfs.ext4")
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "kiosk-release").write_text("VERSION=1\n")
    images = []
    for attempt in range(2):
        image = tmp_path / f"root{attempt}.ext4"
        build_sh(f'ext4_image "{tree}" "{image}" 8M kiosk-root "$ROOT_FS_UUID" "$ROOT_HASH_SEED"')
        images.append(sha256(image))
    assert images[0] == images[1]


def test_an_ext4_partition_stays_the_same_when_the_tree_was_read_or_chmodded_between(tmp_path):
    """Reading a file moves its atime and a chmod its ctime (a copy of the build folder, a
    test looking in): neither may change the image; modification times are kept (.pyc files
    record them)."""
    need("mkfs.ext4", "debugfs")
    tree = tmp_path / "tree"
    (tree / "etc" / "a dir").mkdir(parents=True)
    release = tree / "etc" / "kiosk-release"
    release.write_text("VERSION=1\n")
    (tree / "etc" / "a dir" / "f").write_text("x")
    os.utime(release, (1_600_000_000, 1_600_000_000))
    images = []
    for attempt in range(2):
        image = tmp_path / f"root{attempt}.ext4"
        build_sh(f'ext4_image "{tree}" "{image}" 8M kiosk-root "$ROOT_FS_UUID" "$ROOT_HASH_SEED"')
        images.append(sha256(image))
        os.utime(release, (1_700_000_123, 1_600_000_000))  # read later: a new atime
        f = tree / "etc" / "a dir" / "f"
        f.chmod(f.stat().st_mode)                            # the same mode, a new ctime
    assert images[0] == images[1]
    shown = subprocess.run(["debugfs", "-R", "stat /etc/kiosk-release",
                            str(tmp_path / "root1.ext4")],
                           capture_output=True, text=True).stdout
    assert "mtime: 0x5f5e1000" in shown  # 1,600,000,000: kept


def test_the_data_partition_starts_with_the_contracts_folders_the_same_every_time(tmp_path):
    need("mkfs.ext4", "debugfs")
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n"
                                         "kiosk:x:998:997::/var/lib/kiosk:/usr/sbin/nologin\n")
    images = []
    for attempt in range(2):
        image = tmp_path / f"data{attempt}.ext4"
        build_sh(f'data_image "{tree}" "{image}"')
        images.append(sha256(image))
    assert images[0] == images[1]
    listed = subprocess.run(["debugfs", "-R", "ls -l", str(tmp_path / "data0.ext4")],
                            capture_output=True, text=True, check=True).stdout
    folders = {line.split()[-1]: line.split()[1:4] for line in listed.splitlines()
               if line.split() and line.split()[-1] in ("kiosk", "ssh", "rauc")}
    assert folders == {"kiosk": ["40700", "(2)", "998"], "ssh": ["40700", "(2)", "0"],
                       "rauc": ["40755", "(2)", "0"]}, listed


def test_the_tree_ships_no_host_keys_and_its_sshd_looks_for_each_kiosks_own(tmp_path):
    tree = tmp_path / "tree"
    dropins = tree / "etc" / "ssh" / "sshd_config.d"
    dropins.mkdir(parents=True)
    key = tree / "etc" / "ssh" / "ssh_host_ed25519_key"
    key.write_text("the build machine's key")
    refused = subprocess.run(["bash", "-c", f'source setup.sh && ssh_host_keys_out "{tree}"'],
                             cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "no HostKey in /data/ssh" in refused.stderr
    shutil.copy(ROOT / "systemd" / "sshd_config.d" / "60-kiosk.conf", dropins)
    build_sh(f'ssh_host_keys_out "{tree}"')
    assert not key.exists()
    assert not list((tree / "etc").rglob("*kiosk-image-hostkey*"))  # no stand-in in RAM


def test_the_trees_times_are_clamped_to_source_date_epoch(tmp_path):
    """What the build wrote (now) gets SOURCE_DATE_EPOCH, what Debian's packages brought keeps
    its older time, and a symlink's own time is set, never its target's."""
    epoch = 1_700_000_000  # build_sh's SOURCE_DATE_EPOCH
    tree = tmp_path / "tree"
    (tree / "etc").mkdir(parents=True)
    (tree / "usr" / "lib").mkdir(parents=True)
    written = tree / "etc" / "kiosk-release"
    written.write_text("VERSION=1\n")
    packaged = tree / "usr" / "lib" / "old.py"
    packaged.write_text("x = 1\n")
    os.utime(packaged, (1_600_000_000, 1_600_000_000))
    to_packaged = tree / "etc" / "link"
    to_packaged.symlink_to("../usr/lib/old.py")
    dangling = tree / "etc" / "resolv.conf"
    dangling.symlink_to("../run/systemd/resolve/stub-resolv.conf")
    build_sh(f'clamp_mtimes "{tree}"')
    assert packaged.stat().st_mtime == 1_600_000_000
    for path in (tree, tree / "etc", tree / "usr", written, to_packaged, dangling):
        assert path.lstat().st_mtime == epoch, path


def test_the_project_goes_into_the_tree_with_the_modes_git_keeps(tmp_path):
    """A checkout made with umask 077 (files 0600) gives the same tree as one made with 022."""
    checkout, copy = tmp_path / "checkout", tmp_path / "copy"
    for folder in ("image", "systemd", "docs"):
        (checkout / folder).mkdir(parents=True)
    files = {"setup.sh": 0o700, "image/build.sh": 0o600, "systemd/kiosk.service": 0o640,
             "docs/image.md": 0o600, "README.md": 0o644, "requirements-kiosk.txt": 0o600}
    for name, mode in files.items():
        (checkout / name).write_text(name)
        (checkout / name).chmod(mode)
    (checkout / "docs").chmod(0o700)
    copy.mkdir(mode=0o700)
    build_sh(f'cd "{checkout}" && umask 077 && project_copy "{copy}"')
    modes = {str(p.relative_to(copy)): stat.S_IMODE(p.stat().st_mode) for p in copy.rglob("*")}
    assert modes == {**{name: 0o644 for name in files}, "setup.sh": 0o755,
                     "image": 0o755, "systemd": 0o755, "docs": 0o755}
    assert stat.S_IMODE(copy.stat().st_mode) == 0o755
