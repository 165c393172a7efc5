"""The kiosk's SSH host keys (kiosk host-keys): made once with the real ssh-keygen, kept across
boots, a PC's /etc/ssh keys moved (the same bytes), a half-written key made again, and keys for
one boot in the fallback folder when the data partition is read-only."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk import commands
from kiosk.bootsetup import host_keys, run
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from tests import small_partition

pytestmark = pytest.mark.skipif(not shutil.which("ssh-keygen"),
                                reason="needs ssh-keygen (openssh-client)")


def paths(tmp_path: Path, top: Path | None = None) -> BootPaths:
    return BootPaths(data_mount=top or tmp_path / "data", etc_ssh=tmp_path / "etc-ssh",
                     host_keys_fallback=tmp_path / "run-ssh")


def ensure(p: BootPaths, **kwargs) -> tuple[list[host_keys.Fingerprint], Outcome]:
    outcome = Outcome()
    return host_keys.ensure(p, commands.run, outcome, **kwargs), outcome


def listed(public: Path) -> str:
    """The fingerprint as ssh-keygen itself prints it."""
    return subprocess.run(["ssh-keygen", "-l", "-f", str(public)], capture_output=True,
                          text=True, check=True).stdout.split()[1]


def keygen(key: Path, kind: str) -> None:
    key.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(key)], check=True)


def test_the_first_boot_makes_ed25519_and_rsa_keys_once(tmp_path):
    p = paths(tmp_path)
    found, outcome = ensure(p)
    folder = tmp_path / "data" / "ssh"
    assert sorted(f.name for f in folder.iterdir()) == [
        "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub", "ssh_host_rsa_key",
        "ssh_host_rsa_key.pub"]
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "ssh_host_ed25519_key").stat().st_mode & 0o777) == "0o600"
    assert [(f.kind, f.sha256) for f in found] == [
        ("ED25519", listed(folder / "ssh_host_ed25519_key.pub")),
        ("RSA", listed(folder / "ssh_host_rsa_key.pub"))]
    assert "3072 " in subprocess.run(["ssh-keygen", "-l", "-f", str(folder / "ssh_host_rsa_key")],
                                     capture_output=True, text=True, check=True).stdout
    assert outcome.facts[host_keys.FACT] == ", ".join(map(str, found))
    assert not (tmp_path / "run-ssh" / host_keys.SSHD_CONF).exists()  # nothing more to name
    before = {f.name: f.read_bytes() for f in folder.iterdir()}
    again, next_boot = ensure(p)  # every later boot: the same keys
    assert again == found and next_boot.applied == []
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == before


def test_a_half_written_key_is_made_again(tmp_path):
    p = paths(tmp_path)
    folder = tmp_path / "data" / "ssh"
    folder.mkdir(parents=True)
    (folder / "ssh_host_ed25519_key").write_bytes(b"")  # cut off, and no .pub
    (folder / ".ssh_host_ed25519_key.new").write_bytes(b"stale")
    found, _ = ensure(p)
    assert [f.kind for f in found] == ["ED25519", "RSA"]
    assert not (folder / ".ssh_host_ed25519_key.new").exists()
    assert found[0].sha256 == listed(folder / "ssh_host_ed25519_key")


def test_a_pcs_keys_move_from_etc_ssh_keeping_their_identity(tmp_path):
    p = paths(tmp_path)
    etc = tmp_path / "etc-ssh"
    for kind in ("ed25519", "ecdsa", "rsa"):
        keygen(etc / f"ssh_host_{kind}_key", kind)
    originals = {f.name: f.read_bytes() for f in etc.iterdir()}
    found, outcome = ensure(p, keep_etc=True)  # sshd still reads /etc/ssh until reloaded
    folder = tmp_path / "data" / "ssh"
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == originals
    assert {f.name for f in etc.iterdir()} == set(originals)
    assert [f.kind for f in found] == ["ED25519", "ECDSA", "RSA"]
    assert len([line for line in outcome.applied if "moved to" in line]) == 3
    # sshd's drop-in names ed25519 and RSA; the ECDSA key is named in the fallback folder.
    assert (tmp_path / "run-ssh" / host_keys.SSHD_CONF).read_text().splitlines()[1:] == [
        f"HostKey {folder / 'ssh_host_ecdsa_key'}"]
    ensure(p)  # after the reload: the originals go
    assert list(etc.iterdir()) == []
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == originals


def test_a_different_key_in_etc_ssh_is_nobodys_copy_and_stays(tmp_path):
    """openssh-server's upgrade makes keys in /etc/ssh again; they are not ours to delete."""
    p = paths(tmp_path)
    ensure(p)
    keygen(tmp_path / "etc-ssh" / "ssh_host_ed25519_key", "ed25519")
    ensure(p)
    assert (tmp_path / "etc-ssh" / "ssh_host_ed25519_key").exists()


def test_a_read_only_data_partition_gets_keys_for_this_boot_in_the_fallback(tmp_path):
    reason = small_partition.why_not()
    if reason:
        pytest.skip(reason)
    with small_partition.small_partition(tmp_path, options="ro") as top:
        p = paths(tmp_path, top)
        found, _ = ensure(p)
        assert [f.kind for f in found] == ["ED25519", "RSA"]
        assert all(f.path.parent == tmp_path / "run-ssh" for f in found)
        assert not (top / "ssh").exists()
        assert (tmp_path / "run-ssh" / host_keys.SSHD_CONF).read_text().splitlines()[1:] == [
            f"HostKey {tmp_path / 'run-ssh' / name}"
            for name in ("ssh_host_ed25519_key", "ssh_host_rsa_key")]


def test_boot_setup_reports_the_fingerprints(tmp_path):
    p = paths(tmp_path)
    found, _ = ensure(p)
    outcome = Outcome()
    run.report_host_keys(p, commands.run, outcome)
    assert outcome.facts[host_keys.FACT] == f"ED25519 {found[0].sha256}, RSA {found[1].sha256}"
