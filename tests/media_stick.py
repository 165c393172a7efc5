"""A real USB stick for the media helper's tests, as far as this machine allows: a loop device
holding a FAT (or ext4) file system, with bundles written on it through a real mount; and the
helper as its own root process, started the way kiosk-media.socket starts it (the listening
socket as fd 3, LISTEN_PID/LISTEN_FDS).

Stood in at the lowest layer only, by small programs first on the helper's PATH: `rauc` (a
bundle here is a JSON file saying its version; `install` prints RAUC's progress lines and
waits for a go file between two of them), `systemctl` (records a reboot), and `lsblk`, which
runs the real lsblk and then says the one thing a loop device cannot be: a USB disk.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest

from content.signing import keygen, sign
from tests.conftest import ROOT
from tests.content_batches import Batches, edit_manifest, tar_of

FAKE_RAUC = r'''
import json, os, sys, time
from pathlib import Path
log = Path(os.environ["FAKE_TOOLS_LOG"])
with log.open("a") as f:
    f.write(json.dumps(["rauc", *sys.argv[1:]]) + "\n")
command, path = sys.argv[1], sys.argv[-1]
try:
    bundle = json.loads(Path(path).read_text())
except (OSError, ValueError):
    print(f"rauc: signature verification failed: {path} is not a bundle", file=sys.stderr)
    sys.exit(1)
if command == "info":
    print(json.dumps({"compatible": "library-kiosk-rpi-arm64", "version": bundle["version"]}))
    sys.exit(0)
print("  0% Installing", flush=True)
print(" 20% Checking bundle", flush=True)
go = os.environ.get("FAKE_RAUC_GO")
while go and not Path(go).exists():
    time.sleep(0.02)
if bundle.get("fail"):
    print(f"LastError: {bundle['fail']}", file=sys.stderr)
    print(f"Installing `{path}` failed", file=sys.stderr, flush=True)
    sys.exit(1)
print(" 40% Copying image to rootfs.1", flush=True)
print("100% Installing done.", flush=True)
print(f"Installing `{path}` succeeded", flush=True)
'''

FAKE_SYSTEMCTL = r'''
import json, os, sys
with open(os.environ["FAKE_TOOLS_LOG"], "a") as f:
    f.write(json.dumps(["systemctl", *sys.argv[1:]]) + "\n")
'''

FAKE_LSBLK = r'''
import json, os, subprocess, sys
real = subprocess.run(["/usr/bin/lsblk", *sys.argv[1:]], capture_output=True, text=True)
sys.stderr.write(real.stderr)
if real.returncode or "--json" not in sys.argv:
    sys.stdout.write(real.stdout)
    sys.exit(real.returncode)
data = json.loads(real.stdout)
usb = set(filter(None, os.environ.get("FAKE_USB_DISKS", "").split(",")))
for disk in data["blockdevices"]:
    if disk["name"] in usb:
        disk.update(type="disk", tran="usb", rm=True, hotplug=True)
print(json.dumps(data))
'''


def why_not(fstype: str = "ext4") -> str | None:
    reason = _why_not(fstype)
    if reason and os.environ.get("CI"):
        raise RuntimeError(f"the USB stick tests cannot run in CI: {reason}")
    return reason


def _why_not(fstype: str) -> str | None:
    if os.geteuid() != 0:
        return "needs root to make loop devices and mount them"
    if not os.path.exists("/dev/loop-control") or not shutil.which("losetup"):
        return "no loop devices here"
    mkfs = {"vfat": "mkfs.vfat", "ext4": "mkfs.ext4"}[fstype]
    if not shutil.which(mkfs):
        return f"needs {mkfs}"
    return None  # whether the kernel mounts it (a module loaded on demand) shows at mounting


@contextmanager
def usb_stick(where: Path, fstype: str, files: dict[str, bytes | dict | Path]):
    """A loop device with a whole-disk ("superfloppy") file system holding `files` (a dict is
    written as a stand-in bundle, a Path's file or folder copied). Yields its device path."""
    image, point = where / "stick.img", where / "writing"
    subprocess.run(["truncate", "-s", "24M", image], check=True)
    mkfs = (["mkfs.vfat", "-n", "KIOSKUSB"] if fstype == "vfat"
            else ["mkfs.ext4", "-q", "-F", "-L", "KIOSKUSB"])
    subprocess.run([*mkfs, image], check=True, capture_output=True)
    device = subprocess.run(["losetup", "--show", "-f", image], check=True, capture_output=True,
                            text=True).stdout.strip()
    try:
        point.mkdir()
        mounted = subprocess.run(["mount", "-t", fstype, device, point], capture_output=True,
                                 text=True)
        if mounted.returncode:
            # A kernel without the file system (CI's and this machine's have no vfat) is a
            # skip even under CI: ext4 always runs, and the QEMU image test plugs in real FAT.
            # Any other failure to mount is an error there.
            reason = f"this kernel cannot mount {fstype}: {mounted.stderr.strip()}"
            if os.environ.get("CI") and "unknown filesystem type" not in mounted.stderr:
                raise RuntimeError(f"the USB stick tests cannot run in CI: {reason}")
            pytest.skip(reason)
        try:
            for name, content in files.items():
                if isinstance(content, Path):
                    copy = shutil.copytree if content.is_dir() else shutil.copyfile
                    copy(content, point / name)
                    continue
                data = json.dumps(content).encode() if isinstance(content, dict) else content
                (point / name).write_bytes(data)
        finally:
            subprocess.run(["umount", point], check=True)
        yield device
    finally:
        for line in Path("/proc/self/mounts").read_text().splitlines():
            if line.split()[0] == device:  # a helper that failed to unmount: never leak it
                subprocess.run(["umount", "--lazy", line.split()[1]], check=False)
        subprocess.run(["losetup", "-d", device], check=False)


def batch_stick_files(batches: Batches, where: Path) -> dict:
    """Two months of one library's batches (a tar, a folder), one signed with another key, an
    update bundle, and what is no batch: a folder without a manifest, a hidden macOS file."""
    foreign = batches.copy(batches.second, where / "foreign")
    keygen(where / "other.key", where / "other.pub")
    sign(foreign / "manifest.json", where / "other.key")
    (where / "photos").mkdir()
    return {"2026-11.tar": tar_of(batches.first, where / "2026-11.tar"),
            "2026-12": batches.second,
            "foreign-2026-12.tar": tar_of(foreign, where / "foreign.tar"),
            "kiosk-0.3.0-arm64.raucb": {"version": "0.3.0"},
            "photos": where / "photos", "notes.txt": b"hello",
            "._2026-12.tar": b"mac"}


def batch_stick_files_of_every_standing(batches: Batches, where: Path) -> dict:
    """batch_stick_files, plus a batch older than both months (2026-10), one after them
    (2027-01), both signed for real, and a tar that cannot be read."""
    files = batch_stick_files(batches, where)
    for name, batch in (("2026-10", batches.first), ("2027-01", batches.second)):
        copy = batches.copy(batch, where / name)
        edit_manifest(copy, lambda doc, name=name: doc.update(batch=name), batches.key)
        files[f"{name}.tar"] = tar_of(copy, where / f"{name}.tar")
    files["broken.tar"] = b"this is not a tar file" * 100
    return files


def fake_tools(where: Path) -> Path:
    tools = where / "fake-bin"
    tools.mkdir()
    for name, body in (("rauc", FAKE_RAUC), ("systemctl", FAKE_SYSTEMCTL), ("lsblk", FAKE_LSBLK)):
        path = tools / name
        path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
        path.chmod(0o755)
    return tools


class Helper:
    """`python -m kiosk.media` as root, socket-activated as systemd does it."""

    def __init__(self, where: Path, *, usb: str = "", from_image: bool = True,
                 running: str = "0.2.0") -> None:
        self.socket_path = where / "kiosk-media.sock"
        self.mount_root = where / "kiosk-media"
        self.log = where / "tools.log"
        self.log.touch()
        self.go = where / "go"
        release = where / "kiosk-release"
        release.write_text(f"VERSION={running}\nBUILD=2026-12-06T00:00:00Z\n")
        rauc_conf = where / "system.conf"
        if from_image:
            rauc_conf.write_text("[system]\n")
        tools = fake_tools(where)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(4)
        env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "FAKE_USB_DISKS": usb,
               "FAKE_TOOLS_LOG": str(self.log), "FAKE_RAUC_GO": str(self.go),
               "PYTHONPATH": str(ROOT)}
        fd = listener.fileno()
        command = (f'exec 3<&{fd}; LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -m kiosk.media '
                   f'--mount-root "$1" --release "$2" --rauc-conf "$3" --idle-exit 600')
        self.output = where / "helper.log"
        with self.output.open("w") as output:
            self.process = subprocess.Popen(
                ["bash", "-c", command, sys.executable, str(self.mount_root), str(release),
                 str(rauc_conf)], cwd=ROOT, env=env, pass_fds=(fd,), stdin=subprocess.DEVNULL,
                stdout=output, stderr=subprocess.STDOUT)
        listener.close()  # the helper holds it now, as systemd's socket would be held

    def calls(self, tool: str) -> list[list[str]]:
        rows = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [row[1:] for row in rows if row[0] == tool]

    def stop(self) -> str:
        """Its log, after stopping it as systemd would (SIGTERM)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.output.read_text()


def mount_options(point: Path) -> set[str] | None:
    """The options of the mount at `point` (/proc/self/mountinfo's per-mount field), or None."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        if fields[4] == str(point):
            return set(fields[5].split(","))
    return None
