"""A stand-in for the root media helper at a real Unix socket, for the admin screen's tests:
it speaks kiosk.media.protocol, answers from a script, and records every request and each
hang-up. An install sends progress up to 20 %, then waits for `go` (a file the screen's test
makes once it has looked), so "the bar moves while rauc runs" needs no timing."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.media.protocol import (
    Bundle,
    Failed,
    Installed,
    Op,
    Problem,
    Progress,
    Rebooting,
    Released,
    Scanned,
    Stick,
    decode_request,
    encode,
)

MOUNT = "/run/kiosk-media/1-sda1"
NEW = Bundle(f"{MOUNT}/kiosk-0.3.0-arm64.raucb", "kiosk-0.3.0-arm64.raucb", 734_003_200,
             "0.3.0")
OLD = Bundle(f"{MOUNT}/kiosk-0.1.9-arm64.raucb", "kiosk-0.1.9-arm64.raucb", 731_906_048,
             "0.1.9", Problem.OLDER, "0.1.9 is not newer than the running system 0.2.0")
SCANNED = Scanned((Stick("/dev/sda1", "KIOSKUSB", MOUNT, (NEW, OLD),
                         ("kiosk-0.1.9-arm64.raucb", "kiosk-0.3.0-arm64.raucb")),), "0.2.0")


@dataclass
class Script:
    install_fails: str | None = None  # rauc's words, for a failed install
    history: list = field(default_factory=list)  # ("connect",) (op, path) ("hangup",)


class FakeMediaHelper:
    def __init__(self, path: Path, go: Path, script: Script | None = None) -> None:
        self.path, self.go = path, go
        self.hung_up = go.with_name("hung-up")
        self.script = script or Script()
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(4)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def history(self) -> list:
        return self.script.history

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        self.history.append(("connect",))
        with sock, sock.makefile("rb") as lines:
            for line in lines:
                request = decode_request(line)
                self.history.append((request.op.value, request.path))
                for reply in self._answer(request):
                    sock.sendall(encode(reply))
        self.history.append(("hangup",))
        self.hung_up.touch()  # for the app's process, which cannot see this history

    def _answer(self, request):
        if request.op is Op.SCAN:
            yield SCANNED
        elif request.op is Op.INSTALL:
            yield Progress(0, "Installing")
            yield Progress(20, "Checking bundle")
            while not self.go.exists():
                time.sleep(0.02)
            yield Progress(40, "Copying image to rootfs.1")
            if self.script.install_fails:
                yield Failed(Problem.INSTALL_FAILED, self.script.install_fails)
                return
            yield Progress(100, "Installing done.")
            yield Installed(NEW.version, request.path)
        elif request.op is Op.REBOOT:
            yield Rebooting()
        else:
            yield Released(1)

    def close(self) -> None:
        self.server.close()
