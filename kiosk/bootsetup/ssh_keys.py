"""`authorized_keys` on the boot folder: who may log in as root over SSH, installed at every boot.

The file stays on the card: what the card holds is who can log in, and deleting it revokes
every key at the next boot. Each line is checked: a known key type, a base64 body that decodes
to a key of that type (the type inside the body must match), and an optional comment. Options
before the key type (`from=`, `command=`, ...) are refused: they are easy to get subtly wrong
and a technician's key needs none. Good lines are installed, each bad line is a problem with its
number, so one typo does not lock every technician out. Public keys are no secret, but lines are
named by number and type only, to keep the log short.
"""

from __future__ import annotations

import base64
import binascii
import struct
from pathlib import Path

from kiosk.bootsetup import boot_folder, files
from kiosk.bootsetup.boot_folder import AUTHORIZED_KEYS, BootFileError
from kiosk.bootsetup.outcome import Outcome

# Key type -> the fields after the type string in the key's body (RFC 4253, 5656, 8709 and
# OpenSSH's PROTOCOL.u2f): "curve" must name the type's curve, "key32" is 32 bytes.
KEY_FIELDS = {
    "ssh-ed25519": ("key32",),
    "ssh-rsa": ("e", "n"),
    "ecdsa-sha2-nistp256": ("curve", "point"),
    "ecdsa-sha2-nistp384": ("curve", "point"),
    "ecdsa-sha2-nistp521": ("curve", "point"),
    "sk-ssh-ed25519@openssh.com": ("key32", "application"),
    "sk-ecdsa-sha2-nistp256@openssh.com": ("curve", "point", "application"),
}
MIN_RSA_BITS = 2048  # OpenSSH refuses shorter RSA keys


def check_line(line: str) -> str | None:
    """The key line as sshd will read it ("type body [comment]"), or None for a blank or
    comment line; raises BootFileError with what is wrong."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    parts = text.split(None, 2)
    key_type = parts[0]
    if key_type not in KEY_FIELDS:
        if key_type == "ssh-dss":
            raise BootFileError("a DSA key (ssh-dss): OpenSSH no longer accepts them; make an "
                                "ed25519 key with 'ssh-keygen -t ed25519'")
        if "=" in key_type or "," in key_type or len(parts) > 2 and parts[1] in KEY_FIELDS:
            raise BootFileError("options before the key type are not supported: remove "
                                "everything before the key type")
        raise BootFileError(f"unknown key type: the line must start with one of "
                            f"{', '.join(KEY_FIELDS)}")
    if len(parts) < 2:
        raise BootFileError(f"{key_type} without the key: copy the whole line of the .pub file")
    _check_body(key_type, parts[1])
    return " ".join(parts)


def _check_body(key_type: str, body: str) -> None:
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise BootFileError(f"{key_type}: the key is not valid base64 (cut short or "
                            "changed?): copy the whole line of the .pub file again") from None
    fields = _ssh_strings(blob)
    if fields is None or not fields:
        raise BootFileError(f"{key_type}: the key's data is damaged: copy the line again")
    if fields[0] != key_type.encode():
        raise BootFileError(f"the line says {key_type} but the key inside is another type: "
                            "copy the whole line of the .pub file again")
    wanted = KEY_FIELDS[key_type]
    if len(fields) - 1 != len(wanted):
        raise BootFileError(f"{key_type}: the key's data is damaged: copy the line again")
    for kind, value in zip(wanted, fields[1:]):
        if kind == "key32" and len(value) != 32:
            raise BootFileError(f"{key_type}: the key's data is damaged: copy the line again")
        if kind == "curve" and value.decode("ascii", "replace") not in key_type:
            raise BootFileError(f"{key_type}: the key is for another curve: copy the line again")
    if key_type == "ssh-rsa" and len(fields[2].lstrip(b"\0")) * 8 < MIN_RSA_BITS:
        raise BootFileError(f"an RSA key shorter than {MIN_RSA_BITS} bits: OpenSSH refuses it; "
                            "make an ed25519 key with 'ssh-keygen -t ed25519'")


def _ssh_strings(blob: bytes) -> list[bytes] | None:
    """The length-prefixed strings a key's body is made of; None unless they fill it exactly."""
    fields, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            return None
        (length,) = struct.unpack_from(">I", blob, at)
        at += 4
        if at + length > len(blob):
            return None
        fields.append(blob[at:at + length])
        at += length
    return fields


def install(boot_dir: Path | None, keys_dir: Path, outcome: Outcome) -> None:
    target = keys_dir / "root"
    source = boot_dir / AUTHORIZED_KEYS if boot_dir is not None else None
    if source is None or not source.is_file():
        if files.remove_or_warn(target, outcome.warn):
            outcome.changed(f"no authorized_keys on the boot folder: SSH keys removed ({target})")
        outcome.facts["ssh_keys"] = "0"
        return
    try:
        lines = boot_folder.read_text(source).split("\n")
    except BootFileError as e:
        outcome.problem(AUTHORIZED_KEYS, f"{e}; no SSH key is installed")
        files.remove_or_warn(target, outcome.warn)
        outcome.facts["ssh_keys"] = "0"
        return
    good: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            key = check_line(line)
        except BootFileError as e:
            outcome.problem(AUTHORIZED_KEYS, f"line {number}: {e}; this line is not installed")
            continue
        if key is not None:
            good.append(key)
    outcome.facts["ssh_keys"] = str(len(good))
    if not good:
        if files.remove_or_warn(target, outcome.warn):
            outcome.changed(f"no usable key in authorized_keys: SSH keys removed ({target})")
        return
    data = ("# Installed by 'kiosk boot-setup' from the boot folder's authorized_keys at every "
            "boot.\n" + "\n".join(good) + "\n").encode("utf-8")
    try:
        files.make_folders(keys_dir)
        if files.write_if_changed(target, data, mode=0o644, owner=files.ROOT_OWNER):
            outcome.changed(f"{len(good)} SSH key(s) for root installed in {target}")
    except OSError as e:
        outcome.problem(AUTHORIZED_KEYS, f"cannot install the keys in {target}: {e.strerror}")
