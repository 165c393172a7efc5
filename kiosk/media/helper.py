"""The root helper behind kiosk-media.socket: one thread per connection, each with its own
mounts, answering JSON-line requests (kiosk.media.protocol) until the app hangs up, then
unmounting what that connection mounted. One install at a time across connections.

Started by systemd with the listening socket as fd 3 (LISTEN_FDS), or on a path of its own
(`--listen`, for development). Leaves by itself after IDLE_EXIT_S with no connection; systemd
starts it again on the next one.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

from kiosk import commands
from kiosk.commands import Runner
from kiosk.media import batches, bundles, devices, install
from kiosk.media.devices import DeviceError
from kiosk.media.install import LineRunner
from kiosk.media.mounts import MountError, Mounts, unmount_stale
from kiosk.media.protocol import (
    MAX_REQUEST,
    MOUNT_ROOT,
    Failed,
    Installed,
    Op,
    Problem,
    Progress,
    ProtocolError,
    Rebooting,
    Released,
    Reply,
    Request,
    Scanned,
    Stick,
    decode_request,
    encode,
)
from kiosk.update import rauc
from kiosk.update import release as kiosk_release
from kiosk.update.state import RAUC_CONF

log = logging.getLogger(__name__)
IDLE_EXIT_S = 120.0
LISTEN_FDS_START = 3
REBOOT_ARGV = ("systemctl", "reboot")
NO_RAUC = ("no RAUC configuration here ({}): this kiosk was installed with setup.sh, which "
           "updates it (./setup.sh install); e-book batches on a stick still work")


@dataclass(frozen=True)
class HelperSettings:
    mount_root: Path = MOUNT_ROOT
    release: Path = kiosk_release.RELEASE_PATH
    rauc_conf: Path = RAUC_CONF
    runner: Runner = commands.run
    line_runner: LineRunner = install.run_lines
    install_lock: threading.Lock = field(default_factory=threading.Lock)


class Connection:
    """One app's session with the helper; `serve()` runs on its own thread until EOF."""

    def __init__(self, sock: socket.socket, tag: str, settings: HelperSettings) -> None:
        self.sock, self.settings = sock, settings
        self.mounts = Mounts(settings.mount_root, tag, settings.runner)
        self.found: dict[str, str | None] = {}  # bundle path -> version, from this one's scans
        self.installed: str | None = None

    def serve(self) -> None:
        reader = self.sock.makefile("rb")
        try:
            while line := reader.readline(MAX_REQUEST + 1):  # never unbounded, as root
                if not line.strip():
                    continue
                try:
                    request = decode_request(line)
                except ProtocolError as e:
                    self.send(Failed(Problem.BAD_REQUEST, str(e)))
                    continue
                self.send(self.handle(request))
        except (ConnectionError, OSError) as e:
            log.info("the app hung up: %s", e)
        finally:
            count = self.mounts.close()
            if count:
                log.info("the app closed its connection: %d stick mount(s) released", count)
            reader.close()
            self.sock.close()

    def send(self, reply: Reply) -> None:
        self.sock.sendall(encode(reply))

    def send_progress(self, step: Progress) -> None:
        """An app that hung up mid-install misses the progress; the install goes on."""
        try:
            self.send(step)
        except OSError:
            pass

    def handle(self, request: Request) -> Reply:
        log.info("asked to %s%s", request.op, f" {request.path}" if request.path else "")
        if request.op is Op.RELEASE:
            self.found.clear()
            return Released(self.mounts.close())
        if request.op is Op.SCAN:
            return self.scan()
        if not self.from_image():
            return Failed(Problem.NOT_FROM_IMAGE, NO_RAUC.format(self.settings.rauc_conf))
        if request.op is Op.INSTALL:
            return self.install(request.path or "")
        return self.reboot()

    def scan(self) -> Reply:
        try:
            systems = devices.scan(self.settings.runner, self.settings.mount_root)
        except DeviceError as e:
            return Failed(Problem.NO_STICK, str(e))
        running = self.running_version()
        sticks, unmountable = [], []
        for fs in systems:
            try:
                point = self.mounts.mount(fs)
            except MountError as e:
                log.warning("cannot mount %s", e)
                unmountable.append(str(e))
                continue
            paths, names = bundles.top_level(point)
            if self.from_image():
                found = tuple(bundles.describe(p, self.settings.runner, running) for p in paths)
            else:  # listed, so staff learn why it is not offered; rauc is not even asked
                found = tuple(bundles.not_installable(p, Problem.NOT_FROM_IMAGE,
                                                      NO_RAUC.format(self.settings.rauc_conf))
                              for p in paths)
            self.found.update({b.path: b.version for b in found})
            sticks.append(Stick(fs.device, fs.label, str(point), found, tuple(names),
                                tuple(batches.on_stick(point))))
        if not sticks:
            why = "; ".join(unmountable) or "no USB stick with a FAT, exFAT or ext4 file system"
            return Failed(Problem.MOUNT_FAILED if unmountable else Problem.NO_STICK, why)
        return Scanned(tuple(sticks), running, tuple(unmountable))

    def install(self, path: str) -> Reply:
        bundle = Path(path)
        # Only what this connection's own scan found, still a plain file directly in a mount
        # this connection made (never a path the app made up, never through a symlink); its
        # version read again, as the file may have changed since.
        if (path not in self.found or self.mounts.owns(bundle) is None
                or not bundle.is_file() or bundle.is_symlink()):
            return Failed(Problem.NOT_FOUND, f"{path} is not a bundle a scan of this "
                          "connection found: scan again")
        version, why = rauc.bundle_version(bundle, self.settings.runner)
        if version is None:
            return Failed(Problem.NOT_A_BUNDLE, why or "rauc cannot read it")
        older = bundles.not_newer(version, self.running_version())
        if older:
            return Failed(Problem.OLDER, older)
        if not self.settings.install_lock.acquire(blocking=False):
            return Failed(Problem.BUSY, "another update is being installed: wait for it")
        try:
            log.info("installing %s (%s)", bundle, version)
            result = install.install(path, self.settings.line_runner, self.send_progress)
        finally:
            self.settings.install_lock.release()
        if not result.ok:
            why = rauc.install_failure(result)
            log.warning("rauc could not install %s: %s", bundle, why)
            return Failed(Problem.INSTALL_FAILED, why)
        log.info("installed %s (%s) into the other slot", bundle, version)
        self.installed = version
        return Installed(version, path)

    def reboot(self) -> Reply:
        if self.installed is None:
            return Failed(Problem.NOT_INSTALLED, "nothing was installed on this connection")
        self.mounts.close()
        result = self.settings.runner(list(REBOOT_ARGV))
        if not result.ok:
            return Failed(Problem.INSTALL_FAILED, f"systemctl reboot failed: {result.why}")
        log.info("rebooting into %s on trial, as asked on the admin screen", self.installed)
        return Rebooting()

    def from_image(self) -> bool:
        """RAUC is configured: bundles may be installed (a setup.sh kiosk has none)."""
        return self.settings.rauc_conf.exists()

    def running_version(self) -> str | None:
        found = kiosk_release.read_release(self.settings.release)
        return found.version if found else None


def listening_socket(listen: Path | None) -> socket.socket:
    """systemd's socket (fd 3) when it started us, else one bound at `listen`."""
    if os.environ.get("LISTEN_PID") == str(os.getpid()) and os.environ.get("LISTEN_FDS") == "1":
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
        return socket.socket(fileno=LISTEN_FDS_START)
    if listen is None:
        raise SystemExit("kiosk-media: not started by kiosk-media.socket: give --listen PATH")
    listen.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(listen))
    server.listen(4)
    return server


def serve(server: socket.socket, settings: HelperSettings, idle_exit_s: float = IDLE_EXIT_S
          ) -> None:
    """Accept connections until none came for `idle_exit_s`, or SIGTERM; every mount made is
    gone when this returns."""
    unmount_stale(settings.mount_root, settings.runner)
    serving: dict[threading.Thread, Connection] = {}
    numbers = itertools.count(1)
    server.settimeout(idle_exit_s)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while True:
            try:
                sock, _ = server.accept()
            except TimeoutError:
                serving = {t: c for t, c in serving.items() if t.is_alive()}
                if not serving:
                    log.info("no connection for %g s: leaving until the next", idle_exit_s)
                    return
                continue
            sock.settimeout(None)
            connection = Connection(sock, str(next(numbers)), settings)
            thread = threading.Thread(target=connection.serve, name="kiosk-media-connection",
                                      daemon=True)
            thread.start()
            serving[thread] = connection
    except Stopped:
        log.info("stopping: releasing the sticks still mounted")
    finally:
        for connection in serving.values():
            connection.mounts.close()


class Stopped(Exception):
    pass


def _stop(_signum, _frame) -> None:
    raise Stopped()
