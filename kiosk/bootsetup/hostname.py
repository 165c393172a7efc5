"""The machine's name is the kiosk's id (`[kiosk] id`), so the library's router and the central
server's list say which kiosk is which.

Set at every boot for the running system; /etc/hostname and the 127.0.1.1 line of /etc/hosts
(Debian's convention, so the name resolves) only when the root file system is writable: on a
read-only root the name lasts until the next boot, when boot-setup sets it again.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from kiosk.bootsetup import files
from kiosk.bootsetup.outcome import Outcome

LOOPBACK_NAME_ADDRESS = "127.0.1.1"


def apply(kiosk_id: str, etc_hostname: Path, etc_hosts: Path, root_writable: bool,
          outcome: Outcome, *, set_name: Callable[[str], None] = socket.sethostname,
          current_name: Callable[[], str] = socket.gethostname) -> None:
    outcome.facts["hostname"] = kiosk_id
    if current_name() != kiosk_id:
        try:
            set_name(kiosk_id)
        except OSError as e:
            outcome.warn(f"cannot set the hostname to {kiosk_id}: {e.strerror}")
        else:
            outcome.changed(f"hostname set to {kiosk_id} (the kiosk id)")
    if not root_writable:
        outcome.note(f"the root file system is read-only: {etc_hostname} and {etc_hosts} left "
                     "as they are; the hostname is set again at every boot")
        return
    try:
        if files.write_if_changed(etc_hostname, f"{kiosk_id}\n".encode(), mode=0o644):
            outcome.changed(f"{etc_hostname}: {kiosk_id}")
        hosts = files.read_bytes(etc_hosts)
        text = hosts.decode("utf-8", "replace") if hosts is not None else ""
        updated = hosts_with_name(text, kiosk_id)
        if updated != text:
            mode = etc_hosts.stat().st_mode & 0o7777 if hosts is not None else 0o644
            files.write_atomically(etc_hosts, updated.encode("utf-8"), mode=mode)
            outcome.changed(f"{etc_hosts}: {LOOPBACK_NAME_ADDRESS} {kiosk_id}")
    except OSError as e:
        outcome.warn(f"cannot write {e.filename or etc_hostname}: {e.strerror}; the hostname is "
                     "set for this boot only")


def hosts_with_name(text: str, name: str) -> str:
    """/etc/hosts with its 127.0.1.1 line naming `name` (added when there is none)."""
    wanted = f"{LOOPBACK_NAME_ADDRESS}\t{name}"
    lines = text.splitlines()
    found = [i for i, line in enumerate(lines) if line.split()[:1] == [LOOPBACK_NAME_ADDRESS]]
    if found:
        if lines[found[0]].split()[1:] == [name]:
            return text
        lines[found[0]] = wanted
    else:
        lines.append(wanted)
    return "\n".join(lines) + "\n"
