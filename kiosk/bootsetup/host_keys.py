"""The kiosk's own SSH host keys, in /data/ssh: made once, on the first boot (kiosk-ssh-host-
keys.service, as root, before ssh.service), never shipped in the image.

Every card written from one image would otherwise share one host key, and a technician could
not tell one kiosk (or an impostor) from another. sshd_config.d/60-kiosk.conf names the keys
here. Kinds: ed25519, which every current client uses, and RSA (3072 bits) for older Windows
clients that know no ed25519 host key (PuTTY before 0.68, older Xshell and SecureCRT); ECDSA
adds nothing for a client that has RSA, so it is not made, but one a PC install moved here from
/etc/ssh is kept and used.

A PC install had keys in /etc/ssh already: they are copied here (same identity, technicians'
known_hosts stay valid) and the originals removed once the copies are in place (`keep_etc` while
a running sshd still reads them). Each key is written under a temporary name and renamed, so a
power cut never leaves half a key for sshd. When /data/ssh cannot be written (the data partition
did not mount and the root is read-only), keys are made in /run instead, new at every such boot,
and said so: sshd must start all the same, it is how a technician reaches a broken kiosk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from common.files import fsync_dir
from kiosk.bootsetup import files
from kiosk.bootsetup.outcome import Outcome
from kiosk.bootsetup.paths import BootPaths
from kiosk.commands import Runner

FOLDER_MODE = 0o700
RSA_BITS = 3072
FACT = "ssh_host_keys"  # the report's fact: fingerprints, for the doctor and the technician


class KeyKind(StrEnum):
    ED25519 = "ed25519"
    ECDSA = "ecdsa"
    RSA = "rsa"

    @property
    def file_name(self) -> str:
        return f"ssh_host_{self.value}_key"


MADE = (KeyKind.ED25519, KeyKind.RSA)  # what the first boot makes (why: module docstring)
# sshd_config.d/60-kiosk.conf names /data/ssh's MADE keys itself, and includes this file from the
# fallback folder for any other key present (a PC's ECDSA key, keys for one boot): a HostKey line
# for a missing file makes sshd log an error at every start.
SSHD_CONF = "host-keys.conf"


@dataclass(frozen=True)
class Fingerprint:
    kind: str       # as ssh-keygen names it: ED25519, RSA, ECDSA
    sha256: str     # SHA256:...
    path: Path      # the public key's file

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256}"


def ensure(paths: BootPaths, runner: Runner, outcome: Outcome, *,
           keep_etc: bool = False) -> list[Fingerprint]:
    """Every key of MADE present (adopted from /etc/ssh, else made), in /data/ssh when it can
    be written, else in the fallback folder; the fingerprints of the keys sshd will use."""
    folder = paths.host_keys_dir
    for kind in KeyKind:
        if _complete(folder / kind.file_name):
            continue
        etc = paths.etc_ssh / kind.file_name
        if _complete(etc) and _writable(folder):
            _adopt(etc, folder / kind.file_name, outcome)
        elif kind in MADE:
            target = folder if _writable(folder) else _fallback(paths, outcome)
            if target is not None:
                _make(kind, target / kind.file_name, runner, outcome)
    if not keep_etc:
        _remove_adopted_originals(paths, outcome)
    _name_other_keys(paths, outcome)
    found = fingerprints((folder, paths.host_keys_fallback), runner)
    if found:
        outcome.facts[FACT] = ", ".join(map(str, found))
    return found


def fingerprints(folders: tuple[Path, ...], runner: Runner) -> list[Fingerprint]:
    """The fingerprints of the host keys in `folders`, in KeyKind's order."""
    found = []
    for folder in folders:
        for kind in KeyKind:
            public = folder / (kind.file_name + ".pub")
            try:
                if not public.is_file():
                    continue
            except OSError:  # /data/ssh is root's: the kiosk user's doctor reads the report
                break
            listed = runner(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public)])
            # "256 SHA256:abc... comment (ED25519)"
            words = listed.stdout.split()
            if listed.ok and len(words) >= 3 and words[1].startswith("SHA256:"):
                found.append(Fingerprint(words[-1].strip("()"), words[1], public))
    return found


def _name_other_keys(paths: BootPaths, outcome: Outcome) -> None:
    """The HostKey lines for keys sshd's drop-in does not name, in the fallback folder."""
    others = [paths.host_keys_dir / kind.file_name for kind in KeyKind if kind not in MADE]
    others += [paths.host_keys_fallback / kind.file_name for kind in MADE]
    lines = [f"HostKey {key}\n" for key in others if _complete(key)]
    conf = paths.host_keys_fallback / SSHD_CONF
    try:
        if not lines:
            files.remove(conf)
            return
        files.make_folders(paths.host_keys_fallback, FOLDER_MODE)
        files.write_if_changed(conf, ("# Written by 'kiosk host-keys' at every boot: the host "
                                      "keys sshd_config.d/60-kiosk.conf does not name.\n"
                                      + "".join(lines)).encode(), mode=0o644,
                               owner=files.ROOT_OWNER)
    except OSError as e:
        outcome.warn(f"cannot write {conf}: {e.strerror}; sshd does not use "
                     + ", ".join(line.split()[1] for line in lines))


def _complete(key: Path) -> bool:
    return _has_bytes(key) and _has_bytes(key.with_name(key.name + ".pub"))


def _has_bytes(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _writable(folder: Path) -> bool:
    """`folder` made when missing (root 0700); whether keys can be written in it."""
    try:
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)  # EROFS on a read-only file system


def _fallback(paths: BootPaths, outcome: Outcome) -> Path | None:
    folder = paths.host_keys_fallback
    outcome.warn(f"cannot write SSH host keys in {paths.host_keys_dir} (is the data partition "
                 f"mounted at {paths.data_mount}?): sshd uses keys made in {folder} for this "
                 "boot only; they change at every such boot")
    try:
        files.make_folders(folder, FOLDER_MODE)
    except OSError as e:
        outcome.warn(f"cannot make {folder} either: {e.strerror}; sshd has no host key")
        return None
    return folder


def _make(kind: KeyKind, key: Path, runner: Runner, outcome: Outcome) -> None:
    temporary = key.with_name(f".{key.name}.new")
    for stale in (temporary, _public(temporary)):
        stale.unlink(missing_ok=True)
    bits = ["-b", str(RSA_BITS)] if kind is KeyKind.RSA else []
    made = runner(["ssh-keygen", "-q", "-t", kind.value, *bits, "-N", "", "-C",
                   f"library kiosk host key ({kind.value})", "-f", str(temporary)])
    if not made.ok:
        outcome.warn(f"cannot make the SSH host key {key}: {made.why}")
        return
    _publish(temporary, key)
    outcome.changed(f"SSH host key {key} made")


def _adopt(original: Path, key: Path, outcome: Outcome) -> None:
    """A copy of /etc/ssh's key (private 0600, public 0644), put in place as _make does."""
    temporary = key.with_name(f".{key.name}.new")
    try:
        files.write_atomically(temporary, original.read_bytes(), mode=0o600,
                               owner=files.ROOT_OWNER)
        files.write_atomically(_public(temporary), _public(original).read_bytes(), mode=0o644,
                               owner=files.ROOT_OWNER)
        _publish(temporary, key)
    except OSError as e:
        outcome.warn(f"cannot copy the SSH host key {original} to {key}: {e.strerror}")
        return
    outcome.changed(f"SSH host key {original} moved to {key} (the same key: known_hosts "
                    "entries stay valid)")


def _publish(temporary: Path, key: Path) -> None:
    """The public half first, the private last: a private key present means both are."""
    for path in (_public(temporary), temporary):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(_public(temporary), _public(key))
    os.replace(temporary, key)
    fsync_dir(key.parent)


def _public(key: Path) -> Path:
    return key.with_name(key.name + ".pub")


def _remove_adopted_originals(paths: BootPaths, outcome: Outcome) -> None:
    """/etc/ssh's keys whose exact copies are in /data/ssh: sshd no longer reads them. A key
    there that differs (made by openssh-server's upgrade, say) is nobody's copy: left alone."""
    for kind in KeyKind:
        original, copy = paths.etc_ssh / kind.file_name, paths.host_keys_dir / kind.file_name
        if not _complete(original) or not _complete(copy):
            continue
        if (files.read_bytes(original) != files.read_bytes(copy)
                or files.read_bytes(_public(original)) != files.read_bytes(_public(copy))):
            continue
        try:
            files.remove(original)
            files.remove(_public(original))
        except OSError as e:  # a read-only root: the copies are in use anyway
            outcome.note(f"{original} stays (a copy of {copy}): {e.strerror}")
            continue
        outcome.changed(f"{original} removed: sshd uses its copy {copy}")
