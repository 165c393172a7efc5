"""systemd's notify protocol, for a service of `Type=notify` with `WatchdogSec=`.

systemd passes the address of its socket in $NOTIFY_SOCKET (a path, or an abstract socket
written with a leading '@'); a message is one datagram of newline-separated KEY=VALUE lines,
e.g. "READY=1", "STATUS=in service", "WATCHDOG=1", "STOPPING=1". Outside systemd nothing is
sent. Any thread may call `notify`: each call uses its own socket.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)

READY = "READY=1"
WATCHDOG = "WATCHDOG=1"
STOPPING = "STOPPING=1"

# The kiosk's STATUS= texts (`systemctl status kiosk` shows them; `kiosk update confirm` keeps a
# slot only "in service"; the system tests match on them).
IN_SERVICE = "in service"
STARTING = "starting"
STOPPING_STATUS = "stopping"
RESTARTING = "restarting"
OUT_OF_SERVICE_PREFIX = "out of service: "


def status(text: str) -> str:
    """A STATUS= line (what `systemctl status` shows); one line, so newlines become spaces."""
    return "STATUS=" + " ".join(text.split())


def notify(*states: str) -> bool:
    """Send `states` as one message; False when not under systemd or the send failed."""
    address = _address()
    if address is None or not states:
        return False
    message = "\n".join(states).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message, address)
    except OSError as e:  # systemd gone (stopping) or the socket not ours: nothing to tell
        log.debug("sd_notify to %s failed: %s", os.environ.get("NOTIFY_SOCKET"), e)
        return False
    return True


def watchdog_interval_s() -> float | None:
    """Seconds within which systemd wants WATCHDOG=1 ($WATCHDOG_USEC), or None without a
    watchdog. $WATCHDOG_PID, when set, names the process meant: a child that inherited the
    environment must not ping for its parent."""
    pid = os.environ.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 1_000_000 if usec > 0 else None


def _address() -> str | bytes | None:
    address = os.environ.get("NOTIFY_SOCKET", "")
    if address.startswith("@"):  # Linux's abstract namespace: a leading NUL byte
        return b"\0" + address[1:].encode()
    if address.startswith("/"):
        return address
    return None  # unset, or a vsock address, which the kiosk never runs under
