"""What the app and the root helper say to each other: one JSON object per line, each way.

The app sends a `Request`; the helper answers each with zero or more `Progress` lines and then
exactly one final reply (`Scanned`, `Installed`, `Released`, `Rebooting` or `Failed`). Both
sides build and read lines only through `encode`/`decode` here. Pure; any thread.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

SOCKET_PATH = Path("/run/kiosk-media.sock")  # kiosk-media.socket's ListenStream
SOCKET_ENV = "KIOSK_MEDIA_SOCKET"  # another socket for the app (tests; a development PC)
MOUNT_ROOT = Path("/run/kiosk-media")
MAX_REQUEST = 64 * 1024  # a request longer than this is not one of ours


class Op(StrEnum):
    SCAN = "scan"        # mount the USB sticks, list what is on them
    INSTALL = "install"  # rauc install one bundle found by scan
    RELEASE = "release"  # unmount everything this connection mounted
    REBOOT = "reboot"    # restart into the update just installed on this connection


class Problem(StrEnum):
    """Why a request failed, for the screen to say in the patron's language."""
    NOT_FROM_IMAGE = "not_from_image"  # no RAUC here (a setup.sh kiosk): no bundle installs
    NO_STICK = "no_stick"              # no USB partition found
    MOUNT_FAILED = "mount_failed"
    NOT_FOUND = "not_found"            # install of a path no scan of this connection found
    OLDER = "older"                    # older than (or the same as) the running system
    NOT_A_BUNDLE = "not_a_bundle"      # rauc info refused it (signature, format)
    BUSY = "busy"                      # another connection is installing
    INSTALL_FAILED = "install_failed"  # rauc install said no
    NOT_INSTALLED = "not_installed"    # reboot asked before an install succeeded
    BAD_REQUEST = "bad_request"
    UNEXPECTED_REPLY = "unexpected_reply"  # the app's side: a final reply of the wrong kind


@dataclass(frozen=True)
class Request:
    op: Op
    path: str | None = None  # INSTALL: a bundle's path as Scanned listed it


@dataclass(frozen=True)
class Bundle:
    path: str                      # under the mount the helper made
    name: str
    size: int
    version: str | None            # from the bundle's manifest; None when rauc cannot read it
    problem: Problem | None = None  # why it cannot be installed (OLDER, NOT_A_BUNDLE)
    why: str | None = None          # rauc's or the helper's own words for that


@dataclass(frozen=True)
class Batch:
    """An e-book batch at the stick's top level, only found: the app verifies and applies it
    itself (kiosk.media.batch_apply), reading it through the helper's read-only mount."""
    path: str     # under the mount the helper made
    name: str
    size: int     # bytes: the tar's, or the folder's files' together
    folder: bool  # a folder with manifest.json, else a tar


@dataclass(frozen=True)
class Stick:
    device: str           # /dev/sda1
    label: str | None
    mount_point: str
    bundles: tuple[Bundle, ...] = ()
    files: tuple[str, ...] = ()  # every top-level name
    batches: tuple[Batch, ...] = ()


@dataclass(frozen=True)
class Progress:
    percent: int | None
    message: str


@dataclass(frozen=True)
class Scanned:
    sticks: tuple[Stick, ...]
    running_version: str | None  # /etc/kiosk-release's, to compare with
    unmountable: tuple[str, ...] = ()  # "/dev/sdb1: why", for the technician


@dataclass(frozen=True)
class Installed:
    version: str | None
    path: str


@dataclass(frozen=True)
class Released:
    unmounted: int


@dataclass(frozen=True)
class Rebooting:
    pass


@dataclass(frozen=True)
class Failed:
    problem: Problem
    why: str  # in English, for the log and the technician; the screen words it by `problem`


Reply = Progress | Scanned | Installed | Released | Rebooting | Failed
FINAL = (Scanned, Installed, Released, Rebooting, Failed)
_KINDS: dict[str, type] = {"progress": Progress, "scanned": Scanned, "installed": Installed,
                           "released": Released, "rebooting": Rebooting, "failed": Failed}
_KIND_OF = {cls: kind for kind, cls in _KINDS.items()}


class ProtocolError(ValueError):
    """A line that is not one of ours."""


def encode(message: Request | Reply) -> bytes:
    if isinstance(message, Request):
        data = {"op": message.op.value, **({"path": message.path} if message.path else {})}
    else:
        data = {"kind": _KIND_OF[type(message)], **asdict(message)}
    return json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n"


def decode_request(line: bytes) -> Request:
    if len(line) > MAX_REQUEST:
        raise ProtocolError(f"a request of {len(line)} bytes is longer than {MAX_REQUEST}")
    data = _object(line)
    try:
        op = Op(data.get("op", ""))  # missing: no op either
    except ValueError:
        raise ProtocolError(f"unknown op {data.get('op')!r}: expected one of "
                            f"{', '.join(o.value for o in Op)}") from None
    path = data.get("path")
    if path is not None and not isinstance(path, str):
        raise ProtocolError("path must be a string")
    if op is Op.INSTALL and not path:
        raise ProtocolError("install needs the path of a bundle that scan listed")
    return Request(op, path)


def decode_reply(line: bytes) -> Reply:
    data = _object(line)
    cls = _KINDS.get(data.pop("kind", None))
    if cls is None:
        raise ProtocolError(f"not a reply of the media helper: {line[:200]!r}")
    try:
        if cls is Scanned:
            return Scanned(tuple(_stick(s) for s in data["sticks"]), data.get("running_version"),
                           tuple(data.get("unmountable") or ()))
        if cls is Failed:
            return Failed(Problem(data["problem"]), str(data["why"]))
        return cls(**data)
    except (KeyError, TypeError, ValueError) as e:
        raise ProtocolError(f"a {cls.__name__} reply that cannot be read ({e}): "
                            f"{line[:200]!r}") from None


def _stick(data: dict) -> Stick:
    bundles = tuple(Bundle(**{**b, "problem": Problem(b["problem"]) if b.get("problem") else None})
                    for b in data.get("bundles") or ())
    batches = tuple(Batch(**b) for b in data.get("batches") or ())
    return Stick(data["device"], data.get("label"), data["mount_point"], bundles,
                 tuple(data.get("files") or ()), batches)


def _object(line: bytes) -> dict:
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"not JSON ({e}): {line[:200]!r}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"not a JSON object: {line[:200]!r}")
    return data


__all__ = ["Batch", "Bundle", "Failed", "FINAL", "Installed", "Op", "Problem", "Progress",
           "ProtocolError", "Rebooting", "Released", "Reply", "Request", "Scanned", "Stick",
           "encode", "decode_reply", "decode_request"]
