"""The simulated RFID pad: the tags on it, their memory, AFI and EAS, and faults on demand.

Shared by the 3M 810 and TRF7970A simulators, which only translate frames into calls here.
A scenario file (TOML) lists the tags; tests and the demo tray move them on and off the pad.
Every write is recorded in `history`, so tests assert on what the driver did to a tag.

Faults act on the line after the reader has done what was asked (a write whose reply is lost
has still been written). They are taken in turn from `faults`: first those planned for the
kind of request being answered (`plan(Op.WRITE_SECURITY, LineFault.LOST)`), then the counters
that hit whatever reply comes next. Each fault applied is recorded in `line_faults`. A tag in
`faults.unreadable_security` answers everything but security reads (Get AFI, Get System
Information, EAS Alarm), as a tag at the pad's edge may.

    [[tag]]
    uid = "E004010000000001"
    model = "iso28560-3"     # iso28560-3 (default), iso28560-2, 3m, or raw with memory = "hex"
    item_id = "33520000123453"
    isil = "CN-430281"
    usage = "circulating"
    part = 1
    parts = 1
    secured = true           # AFI (or EAS) armed
    on_pad = true
    label = "《红楼梦》"       # shown in the demo tray
"""

from __future__ import annotations

import re
import threading
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from drivers.errors import SourceError
from drivers.rfid import tagdata

MEMORY_BLOCKS = 28  # ICODE SLIX: 28 blocks of 4 bytes
UID_PATTERN = re.compile(r"^E0[0-9A-F]{14}$")
DEFAULT_AFI = {True: 0x07, False: 0xC2}  # ISO 28560: on shelf (secured), on loan


@dataclass
class SimTag:
    uid: str
    memory: bytearray
    afi: int = 0x07
    eas: bool = True
    dsfid: int = 0x00
    label: str = ""


class Op(StrEnum):
    """The kinds of request a fault can be planned for, whatever the reader's protocol."""
    INVENTORY = "inventory"
    READ_BLOCKS = "read_blocks"
    READ_SECURITY = "read_security"  # Get AFI, Get System Information, EAS Alarm
    WRITE_SECURITY = "write_security"  # Write AFI, Set EAS, Reset EAS
    OTHER = "other"  # version probes, set-up, block writes


class LineFault(StrEnum):
    LOST = "lost"  # the reply is never sent
    CORRUPT = "corrupt"  # the reply is damaged (a broken checksum, a line cut off)
    GARBLED = "garbled"  # one character of the reply changed: no checksum, no sign of it
    GARBAGE = "garbage"  # noise goes before the reply
    LATE = "late"  # the reply is held back and sent when the next request arrives, before
    # that request's own reply: after the driver gave up waiting, while it waits for another
    UNHEARD = "unheard"  # the request never reaches the tag: nothing is done or answered


@dataclass
class Faults:
    """Faults the simulators apply to their next replies."""
    silent_replies: int = 0  # lose the replies to this many requests
    corrupt_replies: int = 0  # send this many replies broken
    late_replies: int = 0  # send this many replies late
    garbage: bytes = b""  # send these bytes before the next reply
    planned: dict[Op, list[LineFault]] = field(default_factory=dict)  # see `SimPad.plan`
    unreadable_security: set[str] = field(default_factory=set)  # UIDs; see the module's doc


@dataclass
class SimPad:
    tags: dict[str, SimTag] = field(default_factory=dict)
    on_pad: set[str] = field(default_factory=set)
    faults: Faults = field(default_factory=Faults)
    history: list[tuple[str, str, object]] = field(default_factory=list)  # (op, uid, value)
    line_faults: list[tuple[Op, LineFault]] = field(default_factory=list)  # faults applied
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- what tests and the demo do -------------------------------------------------------

    def place(self, *uids: str) -> None:
        with self.lock:
            for uid in uids:
                self._tag(uid)
                self.on_pad.add(uid)

    def remove(self, *uids: str) -> None:
        with self.lock:
            self.on_pad.difference_update(uids)

    def clear(self) -> None:
        with self.lock:
            self.on_pad.clear()

    def plan(self, op: Op, *faults: LineFault) -> None:
        """Apply `faults`, one each, to the next replies to requests of kind `op`."""
        with self.lock:
            self.faults.planned.setdefault(op, []).extend(faults)

    def faults_pending(self) -> bool:
        """Whether any planned or counted fault has not been applied yet."""
        with self.lock:
            f = self.faults
            return any(f.planned.values()) or bool(
                f.silent_replies or f.corrupt_replies or f.late_replies or f.garbage)

    # --- what the simulators do -----------------------------------------------------------

    def present(self) -> list[SimTag]:
        with self.lock:
            return [self.tags[uid] for uid in sorted(self.on_pad)]

    def answering(self, uid: str) -> SimTag | None:
        """The tag, if it is on the pad to answer an addressed command."""
        with self.lock:
            return self.tags.get(uid) if uid in self.on_pad else None

    def security_answering(self, uid: str) -> SimTag | None:
        """The tag, if it is on the pad and answers a security read."""
        with self.lock:
            return None if uid in self.faults.unreadable_security else self.answering(uid)

    def read(self, uid: str, first: int, count: int) -> bytes | None:
        tag = self.answering(uid)
        if tag is None or first < 0 or count < 1 or (first + count) * 4 > len(tag.memory):
            return None
        return bytes(tag.memory[first * 4:(first + count) * 4])

    def write(self, uid: str, first: int, data: bytes) -> bool:
        tag = self.answering(uid)
        if tag is None or len(data) % 4 or first < 0 or first * 4 + len(data) > len(tag.memory):
            return False
        with self.lock:
            tag.memory[first * 4:first * 4 + len(data)] = data
            self.history.append(("write_blocks", uid, (first, data.hex())))
        return True

    def set_afi(self, uid: str, afi: int) -> bool:
        tag = self.answering(uid)
        if tag is None:
            return False
        with self.lock:
            tag.afi = afi
            self.history.append(("write_afi", uid, afi))
        return True

    def set_eas(self, uid: str, on: bool) -> bool:
        tag = self.answering(uid)
        if tag is None:
            return False
        with self.lock:
            tag.eas = on
            self.history.append(("write_eas", uid, on))
        return True

    def refuse_lock(self, what: str, uid: str) -> None:
        """A lock command reached the pad: record it so tests can fail loudly."""
        with self.lock:
            self.history.append((f"lock_{what}", uid, None))

    def take_unheard(self, op: Op) -> bool:
        """Whether the next request of kind `op` is to go unheard (planned only)."""
        with self.lock:
            planned = self.faults.planned.get(op)
            if not planned or planned[0] is not LineFault.UNHEARD:
                return False
            self.line_faults.append((op, planned.pop(0)))
            return True

    def take_fault(self, op: Op = Op.OTHER) -> LineFault | None:
        """The fault for the next reply, a reply to a request of kind `op`, if any."""
        with self.lock:
            fault = self._next_fault(op)
            if fault is not None:
                self.line_faults.append((op, fault))
            return fault

    def _next_fault(self, op: Op) -> LineFault | None:
        faults = self.faults
        if faults.planned.get(op) and faults.planned[op][0] is not LineFault.UNHEARD:
            return faults.planned[op].pop(0)
        for counter, fault in (("silent_replies", LineFault.LOST),
                               ("corrupt_replies", LineFault.CORRUPT),
                               ("late_replies", LineFault.LATE)):
            if getattr(faults, counter):
                setattr(faults, counter, getattr(faults, counter) - 1)
                return fault
        return LineFault.GARBAGE if faults.garbage else None

    def take_garbage(self) -> bytes:
        with self.lock:
            garbage, self.faults.garbage = self.faults.garbage, b""
            return garbage

    def _tag(self, uid: str) -> SimTag:
        try:
            return self.tags[uid]
        except KeyError:
            raise KeyError(f"no tag {uid} in the scenario") from None


def load_scenario(path: str | Path, afi: dict[bool, int] = DEFAULT_AFI) -> SimPad:
    """A pad from a scenario file; `afi` maps secured -> AFI value, as the kiosk is configured."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise SourceError(f"{path}: cannot read the RFID scenario: {e}") from None
    pad = SimPad()
    for number, entry in enumerate(data.get("tag", []), start=1):
        tag = _tag_from(entry, afi, f"{path}: tag {number}")
        pad.tags[tag.uid] = tag
        if entry.get("on_pad", False):
            pad.on_pad.add(tag.uid)
    return pad


def _tag_from(entry: dict[str, Any], afi: dict[bool, int], where: str) -> SimTag:
    # A table of the scenario's TOML, as tomllib gives it: its values are checked below.
    uid = str(entry.get("uid", "")).upper()
    if not UID_PATTERN.match(uid):
        raise SourceError(f"{where}: uid must be 16 hex digits starting E0 (got {uid!r})")
    model = entry.get("model", "iso28560-3")
    try:
        if model == "raw":
            content = bytes.fromhex(entry["memory"])
        else:
            content = tagdata.encode(model, item_id=str(entry["item_id"]),
                                     isil=entry.get("isil"),
                                     usage=entry.get("usage", "circulating"),
                                     part=int(entry.get("part", 1)),
                                     parts=int(entry.get("parts", 1)))
    except (KeyError, ValueError) as e:
        raise SourceError(f"{where}: {e}") from None
    memory = bytearray(MEMORY_BLOCKS * 4)
    memory[:len(content)] = content[:len(memory)]
    secured = bool(entry.get("secured", True))
    return SimTag(uid, memory, afi=afi[secured], eas=secured,
                  dsfid=tagdata.DSFID.get(model, 0), label=str(entry.get("label", "")))
