"""A real, tiny ext4 data partition for the tests of a full disk: a 4 MB image with 1 KB blocks,
loop-mounted (root only; the tests that use it skip with the reason elsewhere).

`fill(folder, leave_kb)` takes all but `leave_kb` KB of it, as a photo library or a log storm
would; `crashed_journal(path)` leaves a journal as a killed kiosk does (its -wal kept, the -shm
then deleted, as a reboot of a tmpfs or a cleaner would).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT

SIZE = "4M"


def why_not() -> str | None:
    """Why a loop-mounted partition cannot be made here, or None. Under CI (root, loop devices)
    a reason is an error, never a quiet skip of the full- and read-only-disk tests."""
    reason = _why_not()
    if reason and os.environ.get("CI"):
        raise RuntimeError(f"the disk-fault tests cannot run in CI: {reason}")
    return reason


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a loop device"
    if not shutil.which("mkfs.ext4") or not shutil.which("mount"):
        return "needs mkfs.ext4 and mount"
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices here"
    return None


@contextmanager
def small_partition(where: Path, *, options: str = "", size: str = SIZE):
    """Yields the mount point of a fresh ext4 file system of `size` (4 MB unless told; 1 KB
    blocks, nothing reserved)."""
    image, mount_point = where / "data.img", where / "mnt"
    mount_point.mkdir()
    subprocess.run(["truncate", "-s", size, str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    mounted = subprocess.run(["mount", "-o", f"loop{',' + options if options else ''}",
                              str(image), str(mount_point)], capture_output=True, text=True,
                             check=False)
    if mounted.returncode:
        pytest.skip(f"cannot loop-mount an ext4 image here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def remount(mount_point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount_point)], check=True)


def make_read_only_under_writers(mount_point: Path) -> bool:
    """Ask the kernel for an ext4 error on a partition mounted `errors=remount-ro`: it goes
    read-only with files still open for writing, as after a card's write errors (a remount
    would refuse while a writer holds a file). False when this kernel cannot be asked."""
    source = subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(mount_point)],
                            capture_output=True, text=True, check=True).stdout.strip()
    trigger = Path(f"/sys/fs/ext4/{os.path.basename(os.path.realpath(source))}/trigger_fs_error")
    if not trigger.exists():
        return False
    trigger.write_text("test\n")
    return True


def free_kb(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize // 1024


def fill(folder: Path, leave_kb: int, name: str = "filler") -> Path:
    """A file taking all but `leave_kb` KB of the partition (written, as dd does)."""
    path = folder / name
    os.sync()
    blocks = max(0, free_kb(folder) - leave_kb)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for _ in range(blocks):
            os.write(fd, b"\0" * 1024)
        os.fsync(fd)
    except OSError:
        pass  # full a little sooner than counted: that is the point
    finally:
        os.close(fd)
    os.sync()
    return path


def crashed_journal(path: Path, rows: int = 200) -> None:
    """A journal whose writer died without closing it (-wal kept), then its -shm removed."""
    script = ("import os, sys\n"
              "from kiosk.journal import Journal\n"
              "j = Journal.open(sys.argv[1], sys.argv[2])\n"
              "for n in range(int(sys.argv[3])):\n"
              "    j.append('checkout', 'ok', item=f'i{n}', title='红楼梦', patron='23520001')\n"
              "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", script, str(path), str(path.with_name("patron.key")),
                    str(rows)], cwd=ROOT, check=True)
    path.with_name(path.name + "-shm").unlink(missing_ok=True)
    os.sync()


def crashed_offline_store(path: Path) -> None:
    """An offline store with a transaction waiting, whose writer died without closing it."""
    script = ("import os, sys\n"
              "from datetime import datetime, timezone\n"
              "from kiosk.ils.offline_store import OfflineStore\n"
              "store = OfflineStore(sys.argv[1])\n"
              "store.add('checkout', '23520001234566', '33520000123453',\n"
              "          datetime.now(timezone.utc))\n"
              "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", script, str(path)], cwd=ROOT, check=True)
    path.with_name(path.name + "-shm").unlink(missing_ok=True)
    os.sync()


def kiosk(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m kiosk ARGS` in `cwd`, as a technician runs it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
