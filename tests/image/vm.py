"""A kiosk image booted in QEMU the way a Pi boots it: U-Boot from the start, boot.scr on
partition 1 picks the slot, the slot's own kernel and initramfs (no `-kernel`).

`Vm(image, workdir)` works on a sparse copy of the image in workdir (never the built file), puts
a fresh SSH key of its own in the copy's boot partition (`authorized_keys`, with mtools, no
mount) and logs in as a technician does. The serial console goes to `serial_log`; the QEMU
monitor (a unix socket) takes `screendump`. Used from the test's thread only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

UBOOT = Path("/usr/lib/u-boot/qemu_arm64/u-boot.bin")
QEMU = "qemu-system-aarch64"
BOOT_PARTITION = 1


class VmError(RuntimeError):
    """The VM did not do what the test waited for; the message names the serial log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def partition_offset(disk: Path, number: int) -> int:
    """Byte offset of partition `number` (1-based) in a disk image, from its partition table."""
    table = json.loads(subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    sector = table.get("sectorsize", 512)
    return table["partitions"][number - 1]["start"] * sector


class Vm:
    def __init__(self, image: Path, workdir: Path, *, memory_mb: int = 1024, smp: int = 2,
                 screen: bool = True, usb: bool = False) -> None:
        self.image = Path(image)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.disk = self.workdir / "disk.img"
        self.serial_log = self.workdir / "serial.log"
        self.key = self.workdir / "id_ed25519"
        self.monitor_path = self.workdir / "monitor.sock"
        self.memory_mb, self.smp, self.screen = memory_mb, smp, screen
        self.usb = usb  # a USB controller (xhci.0) to plug sticks into over the monitor
        self.ssh_port = free_port()
        self.process: subprocess.Popen | None = None

    # --- the disk, before start or after stop -------------------------------------------

    def prepare(self) -> None:
        """The sparse copy of the image, and this VM's SSH key in its boot partition."""
        if self.disk.exists():
            return
        if self.image.suffix == ".xz":
            unpacked = subprocess.Popen(["xz", "-dc", str(self.image)], stdout=subprocess.PIPE)
            subprocess.run(["cp", "--sparse=always", "/dev/stdin", str(self.disk)],
                           stdin=unpacked.stdout, check=True)
            if unpacked.wait():
                raise VmError(f"cannot unpack {self.image}")
        else:
            subprocess.run(["cp", "--sparse=always", str(self.image), str(self.disk)], check=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "kiosk-image-test",
                        "-f", str(self.key)], check=True)
        self.put_boot_file("authorized_keys", (self.workdir / "id_ed25519.pub").read_bytes())

    def _fat(self) -> str:
        return f"{self.disk}@@{partition_offset(self.disk, BOOT_PARTITION)}"

    def put_boot_file(self, name: str, data: bytes) -> None:
        """Writes a file on the copy's boot partition (the VM must not be running)."""
        self._not_running()
        source = self.workdir / f"boot-file-{name}"
        source.write_bytes(data)
        subprocess.run(["mcopy", "-o", "-i", self._fat(), str(source), f"::{name}"], check=True,
                       env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})

    def get_boot_file(self, name: str) -> bytes:
        """A file of the copy's boot partition (the VM must not be running)."""
        self._not_running()
        done = subprocess.run(["mtype", "-i", self._fat(), f"::{name}"], capture_output=True,
                              check=True, env={**os.environ, "MTOOLS_SKIP_CHECK": "1"})
        return done.stdout

    def _not_running(self) -> None:
        if self.process and self.process.poll() is None:
            raise VmError("the VM is running: stop it before touching its disk")

    # --- running ------------------------------------------------------------------------

    def command(self) -> list[str]:
        return [
            QEMU, "-M", "virt", "-cpu", "cortex-a72", "-smp", str(self.smp),
            "-m", str(self.memory_mb), "-bios", str(UBOOT),
            "-drive", f"if=none,id=disk,format=raw,file={self.disk}",
            "-device", "virtio-blk-pci,drive=disk",
            "-netdev", f"user,id=net,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22",
            "-device", "virtio-net-pci,netdev=net",
            *(["-device", "virtio-gpu-pci,xres=1280,yres=800"] if self.screen else []),
            *(["-device", "qemu-xhci,id=xhci"] if self.usb else []),
            "-display", "none", "-serial", f"file:{self.serial_log}",
            "-monitor", f"unix:{self.monitor_path},server,nowait",
        ]

    def start(self) -> None:
        self.prepare()
        self.serial_log.write_bytes(b"")
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                        stdout=open(self.workdir / "qemu.log", "ab"),
                                        stderr=subprocess.STDOUT)

    def serial_text(self) -> str:
        return self.serial_log.read_bytes().decode("utf-8", "replace")

    def wait_for_serial(self, pattern: str, timeout: float, *, start: int = 0) -> re.Match:
        """The first match of `pattern` on the serial console after character `start`."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.serial_text(), start)
            if found:
                return found
            if self.process and self.process.poll() is not None:
                raise VmError(f"QEMU ended ({self.process.returncode}) before {pattern!r}: "
                              f"see {self.serial_log}")
            if time.monotonic() > deadline:
                raise VmError(f"no {pattern!r} on the serial console within {timeout:.0f} s: "
                              f"see {self.serial_log}")
            time.sleep(0.5)

    def ssh(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ssh", "-i", str(self.key), "-p", str(self.ssh_port), "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "root@127.0.0.1", command],
            capture_output=True, text=True, timeout=timeout, check=False)

    def wait_ssh(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.ssh("true", timeout=30).returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                pass
            if self.process and self.process.poll() is not None:
                raise VmError(f"QEMU ended before SSH answered: see {self.serial_log}")
            if time.monotonic() > deadline:
                raise VmError(f"no SSH login within {timeout:.0f} s: see {self.serial_log}")
            time.sleep(2)

    def reboot_and_wait(self, timeout: float = 600) -> None:
        """Reboots from inside, then waits for U-Boot to boot a slot again and for SSH."""
        mark = len(self.serial_text())
        self.ssh("systemctl reboot", timeout=30)
        self.wait_for_serial(r"kiosk-boot: booting slot", timeout, start=mark)
        self.wait_ssh(timeout)

    def monitor(self, command: str, timeout: float = 30) -> str:
        """One command on QEMU's human monitor; its answer."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.monitor_path))
            answer = b""
            while b"(qemu)" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    raise VmError("QEMU's monitor closed before its prompt")
                answer += chunk
            sock.sendall(command.encode() + b"\n")
            answer = b""
            while b"(qemu)" not in answer:
                chunk = sock.recv(4096)
                if not chunk:  # QEMU closed the monitor: after "quit"
                    break
                answer += chunk
        return answer.decode("utf-8", "replace")

    def screendump(self, png: Path) -> None:
        png.parent.mkdir(parents=True, exist_ok=True)
        png.unlink(missing_ok=True)
        self.monitor(f"screendump {png} -f png")
        deadline = time.monotonic() + 30
        while not (png.exists() and png.stat().st_size):
            if time.monotonic() > deadline:
                raise VmError(f"QEMU wrote no screen dump to {png}")
            time.sleep(0.2)

    def stop(self) -> None:
        if not self.process:
            return
        if self.process.poll() is None:
            try:
                self.monitor("quit", timeout=5)
            except (OSError, VmError):
                pass
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def remove_disk(self) -> None:
        self._not_running()
        self.disk.unlink(missing_ok=True)


def fw_printenv(env_blob: bytes, workdir: Path, *names: str) -> dict[str, str]:
    """Decodes a kiosk-boot.env blob with fw_printenv, as Linux reads it (/etc/fw_env.config)."""
    blob, config = workdir / "kiosk-boot.env", workdir / "fw_env.config"
    blob.write_bytes(env_blob)
    config.write_text(f"{blob} 0x0 0x{len(env_blob):x}\n")
    done = subprocess.run(["fw_printenv", "-c", str(config), *names], capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise VmError(f"fw_printenv cannot read the counter: {done.stderr.strip()}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def tools_missing() -> list[str]:
    return [tool for tool in (QEMU, "mcopy", "mtype", "sfdisk", "ssh", "ssh-keygen", "fw_printenv")
            if not shutil.which(tool)] + ([str(UBOOT)] if not UBOOT.exists() else [])
