"""A Debian 12 container for the system test: a minbase tree made by mmdebstrap (the tarball
cached under ~/.cache/kiosk-system-test, keyed by its package list), commands run in it with
systemd-nspawn (no boot, as an installer would), and the tree booted with systemd as PID 1.

The host has no systemd of its own, so the container is neither registered nor given a scope
(`--register=no --keep-unit`); the host reaches the booted container by entering the
namespaces of its PID 1 with nsenter. Root only (tests/system/test_kiosk_system.py skips
otherwise)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("KIOSK_SYSTEM_TEST_CACHE",
                            Path.home() / ".cache" / "kiosk-system-test"))
SUITE = "bookworm"
# What the test needs in the container besides what the kiosk needs: an init to boot, and
# Xvfb standing in for the screen.
TEST_PACKAGES = ("systemd-sysv", "xvfb", "xauth", "procps")


def why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (mmdebstrap, systemd-nspawn, nsenter)"
    for tool in ("mmdebstrap", "systemd-nspawn", "nsenter"):
        if not shutil.which(tool):
            return f"needs {tool}"
    return None


def base_tarball(packages: tuple[str, ...]) -> Path:
    """The cached minbase tarball holding `packages`, made when missing (about a minute)."""
    wanted = tuple(sorted(set(packages)))
    key = hashlib.sha256(" ".join((SUITE, *wanted)).encode()).hexdigest()[:16]
    tarball = CACHE / f"{SUITE}-minbase-{key}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial.tar")
    subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(wanted)}",
                    SUITE, str(partial)], check=True, timeout=900)
    partial.rename(tarball)
    return tarball


def unpack(tarball: Path, tree: Path) -> None:
    tree.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(tree), "-xf", str(tarball)], check=True, timeout=300)


def nspawn_run(tree: Path, command: list[str], binds: dict[Path, str],
               timeout: float = 900) -> subprocess.CompletedProcess:
    """Runs `command` in the tree without booting it (systemd not running, as in an image build)."""
    args = ["systemd-nspawn", "--quiet", "--register=no", "--keep-unit", "--console=pipe",
            "-D", str(tree)]
    args += [f"--bind-ro={host}:{inside}" for host, inside in binds.items()]
    return subprocess.run(args + command, capture_output=True, text=True, timeout=timeout,
                          check=False)


@dataclass
class Booted:
    """A booted container: run commands in it, read its units, stop it."""

    process: subprocess.Popen
    leader: int
    console: Path

    def run(self, *command: str, timeout: float = 120, check: bool = True
            ) -> subprocess.CompletedProcess:
        result = subprocess.run(["nsenter", "-t", str(self.leader), "-a", *command],
                                capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode:
            raise AssertionError(f"{' '.join(command)} in the container: exit "
                                 f"{result.returncode}\n{result.stdout}{result.stderr}")
        return result

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        """Properties of a unit, or of the service manager itself when `unit` is ""."""
        out = self.run("systemctl", "show", *([unit] if unit else []), "-p",
                       ",".join(properties)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def path(self, inside: str) -> Path:
        """A path in the container's file system, from the host."""
        return Path(f"/proc/{self.leader}/root") / inside.lstrip("/")

    def wait_for(self, what: str, condition, timeout: float = 120, every: float = 0.5):
        """Polls `condition()` until it returns something true; fails saying `what` never came."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {timeout:.0f} s\n{self.journal()}")
            if self.process.poll() is not None:
                raise AssertionError(f"{what}: the container stopped\n"
                                     f"{self.console.read_text(errors='replace')[-4000:]}")
            time.sleep(every)

    def journal(self, *units: str, lines: int = 60) -> str:
        args = ["journalctl", "--no-pager", "-n", str(lines)]
        for unit in units:
            args += ["-u", unit]
        return self.run(*args, check=False).stdout

    def stop(self, timeout: float = 60) -> None:
        if self.process.poll() is None:
            # SIGRTMIN+4 asks systemd for a clean power-off.
            os.kill(self.leader, signal.SIGRTMIN + 4)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def boot(tree: Path, binds: dict[Path, str], console: Path, read_only: bool = False,
         read_only_binds: dict[Path, str] | None = None) -> Booted:
    """Boots the tree with systemd as PID 1 and waits until the host can enter it."""
    args = ["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--console=passive",
            "--private-network", "-D", str(tree)]
    if read_only:
        args.append("--read-only")
    args += [f"--bind={host}:{inside}" for host, inside in binds.items()]
    args += [f"--bind-ro={host}:{inside}" for host, inside in (read_only_binds or {}).items()]
    out = console.open("w")
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while (leader := _container_init(process.pid)) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the container did not start:\n{console.read_text()}")
        time.sleep(0.1)
    booted = Booted(process, leader, console)
    # Until PID 1 answers on its private socket, systemctl cannot talk to it.
    booted.wait_for("systemd in the container answering",
                    lambda: booted.run("systemctl", "is-system-running", check=False).stdout
                    .strip() not in ("", "offline", "unknown"), timeout=60)
    return booted


def _container_init(nspawn_pid: int) -> int | None:
    """The host PID of the container's PID 1: a descendant of nspawn that is PID 1 inside."""
    children = _children()
    todo = list(children.get(nspawn_pid, ()))
    while todo:
        pid = todo.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("NSpid:") and line.split()[1:] and line.split()[-1] == "1" \
                    and len(line.split()) > 2:
                return pid
        todo.extend(children.get(pid, ()))
    return None


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children
