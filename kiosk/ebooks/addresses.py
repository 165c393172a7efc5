"""This machine's own network addresses, and whether a link's host is one of them: for the
download-server check, which warns when the QR code sends phones somewhere else.

Read from the kernel (SIOCGIFADDR per interface, /proc/net/if_inet6), so it needs no network
and cannot hang; a host name is looked up with a short time limit. Any thread.
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

SIOCGIFADDR = 0x8915
LOOKUP_TIMEOUT_S = 1.0
IF_INET6 = Path("/proc/net/if_inet6")


def interface_addresses() -> set[str]:
    """Every IPv4 and IPv6 address configured on this machine's interfaces."""
    found: set[str] = set()
    try:
        names = [name for _index, name in socket.if_nameindex()]
    except OSError:
        names = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
            except OSError:
                continue  # no IPv4 address on this interface
            found.add(socket.inet_ntoa(answer[20:24]))
    try:
        for line in IF_INET6.read_text().splitlines():
            raw = line.split()[0]
            found.add(str(ipaddress.IPv6Address(bytes.fromhex(raw))))
    except (OSError, ValueError, IndexError):
        pass
    return found


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_addresses(host: str, timeout_s: float = LOOKUP_TIMEOUT_S) -> set[str] | None:
    """The addresses `host` stands for; None when a name cannot be looked up in time."""
    host = host.strip("[]")
    try:
        return {str(ipaddress.ip_address(host))}
    except ValueError:
        pass
    pool = ThreadPoolExecutor(1, thread_name_prefix="lookup")
    try:
        infos = pool.submit(socket.getaddrinfo, host, None).result(timeout=timeout_s)
    except (FutureTimeout, OSError, UnicodeError):
        return None
    finally:
        pool.shutdown(wait=False)  # a lookup that hangs is left behind, never waited for
    hosts = [info[4][0] for info in infos]  # a str for the inet families, all a name has
    # An IPv6 address may end in its scope ("%eth0").
    return {str(ipaddress.ip_address(host.split("%")[0])) for host in hosts
            if isinstance(host, str)}


def is_this_machine(host: str) -> bool | None:
    """Whether `host` names this machine (True/False), or None when it cannot be told."""
    if host.lower() in (socket.gethostname().lower(), socket.gethostname().lower() + ".local"):
        return True
    addresses = host_addresses(host)
    if addresses is None:
        return None
    return bool(addresses & (interface_addresses() | {"127.0.0.1", "::1"}))
